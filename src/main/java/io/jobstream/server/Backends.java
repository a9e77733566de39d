package io.jobstream.server;

import io.jobstream.auth.JobAccess;
import io.jobstream.broadcast.Broadcaster;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.config.Config;
import io.jobstream.config.Config.ClusterConfig;
import io.jobstream.event.EventDecoder;
import io.jobstream.metrics.HealthCheck;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.EventQueue;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.redis.CallbackTasks;
import io.jobstream.redis.RedisBroadcaster;
import io.jobstream.redis.RedisConnection;
import io.jobstream.redis.RedisDurability;
import io.jobstream.redis.RedisEventQueue;
import io.jobstream.redis.RedisNodes;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * What differs between an embedded node and a node of a cluster, chosen in one place (as Centrifugo's engine): the
 * event queue and the broadcaster, in memory or on Redis, and in cluster mode what comes with Redis (the heartbeat,
 * the durability check, AWX's {@code callback_tasks} consumer). The rest of the node sees only the interfaces.
 *
 * <p>Lifecycle, driven by {@link Server} on its owner's thread: {@link #start} (the I/O: connecting to Redis),
 * {@link #startHeartbeat} just before the receiver starts, {@link #startIntake} after it; on the way down
 * {@link #stopIntake} before the receiver drains, {@link #closeQueue} after it, {@link #close} last. Each step does
 * nothing in memory mode where there is nothing to do, and closing is safe after a start that failed halfway.
 */
abstract class Backends implements AutoCloseable {
    final MeterRegistry registry;
    /** This node's own delivery to its hub; in cluster mode the Redis relay wraps it. */
    final MemoryBroadcaster local;

    private Backends(MemoryBroadcaster local, MeterRegistry registry) {
        this.local = local;
        this.registry = registry;
    }

    /** Memory or Redis, from the configuration; constructs only (no I/O before {@link #start}). */
    static Backends choose(Config config, Hub hub, MeterRegistry registry, Clock clock) {
        MemoryBroadcaster local = new MemoryBroadcaster(hub, registry, clock);
        return config.cluster().enabled() ? new Cluster(config, local, registry) : new Memory(config, local, registry);
    }

    /** Opens the queue and the broadcaster, and registers the queue's gauges. */
    final Backends start() {
        open();
        registry.gauge(Metrics.QUEUE_DEPTH, queue(), EventQueue::depth);
        registry.gauge(Metrics.QUEUE_CAPACITY, queue(), EventQueue::capacity);
        return this;
    }

    abstract void open();

    /** "embedded" or "cluster", as {@code /api/v2/stats/} says. */
    abstract String mode();

    abstract EventQueue queue();

    abstract Broadcaster broadcaster();

    /** This mode's health checks, in the order {@code /health} lists them (after the database and the receiver). */
    abstract Map<String, HealthCheck> checks();

    /**
     * Whether another node is alive (its heartbeat), for a cancel of a job it runs; true when this mode cannot tell
     * (no cluster: a node sharing the database is assumed to be running, never declared dead on a guess).
     */
    Predicate<String> nodeAlive() {
        return node -> true;
    }

    /** The cluster part of {@code /api/v2/stats/}, or null in memory mode. */
    Supplier<Map<String, Object>> clusterStats() {
        return null;
    }

    /** Just before the receiver starts: cluster mode begins its heartbeat, publishing {@code stats} with it. */
    void startHeartbeat(Supplier<Map<String, Object>> stats) {}

    /** After the receiver started: cluster mode consumes {@code callback_tasks}, held to the trusted writers' rule. */
    void startIntake(EventDecoder decoder, JobAccess access) {}

    /** Before the receiver drains: stops taking events from Redis. */
    void stopIntake() {}

    /** After the receiver drained: the queue lets go of what it holds. */
    void closeQueue() {}

    @Override
    public abstract void close();

    /** One node: an in-process queue and delivery to this node's subscribers only. */
    private static final class Memory extends Backends {
        private final MemoryEventQueue queue;

        Memory(Config config, MemoryBroadcaster local, MeterRegistry registry) {
            super(local, registry);
            this.queue = new MemoryEventQueue(
                    config.queue().capacity(), config.queue().maxBytes());
        }

        @Override
        void open() {}

        @Override
        String mode() {
            return "embedded";
        }

        @Override
        EventQueue queue() {
            return queue;
        }

        @Override
        Broadcaster broadcaster() {
            return local;
        }

        @Override
        Map<String, HealthCheck> checks() {
            return Map.of("queue", queue::check);
        }

        @Override
        public void close() {
            local.close();
        }
    }

    /**
     * A node of a cluster: the durable Redis stream is the queue and pub/sub the broadcast; the heartbeat says which
     * nodes are alive, so that the others claim a dead node's work.
     */
    private static final class Cluster extends Backends {
        private final ClusterConfig cluster;
        private final int capacity;
        private RedisConnection redis;
        private RedisNodes nodes;
        private RedisDurability durability;
        private RedisEventQueue queue;
        private RedisBroadcaster relay;
        private volatile CallbackTasks callbackTasks;
        private volatile Supplier<Map<String, Object>> heartbeat = Map::of;

        Cluster(Config config, MemoryBroadcaster local, MeterRegistry registry) {
            super(local, registry);
            this.cluster = config.cluster();
            this.capacity = config.queue().capacity();
        }

        @Override
        void open() {
            redis = RedisConnection.open(cluster.redisUrl(), 64);
            nodes = new RedisNodes(redis, cluster.nodeName(), cluster.nodeTimeout(), () -> heartbeat.get());
            durability = new RedisDurability(redis, cluster.waitAof(), registry);
            durability.check(); // says what a 2xx is worth; refuses redis.wait-aof where Redis cannot do it
            queue = new RedisEventQueue(
                            redis, cluster.nodeName(), capacity, nodes::alive, durability.waitsForFsync(), registry)
                    .start();
            relay = new RedisBroadcaster(local, redis, cluster.nodeName(), registry);
            relay.start();
        }

        @Override
        String mode() {
            return "cluster";
        }

        @Override
        EventQueue queue() {
            return queue;
        }

        @Override
        Broadcaster broadcaster() {
            return relay;
        }

        @Override
        Map<String, HealthCheck> checks() {
            Map<String, HealthCheck> checks = new LinkedHashMap<>();
            checks.put("redis", queue::redisCheck);
            checks.put("queue", queue::check);
            return checks;
        }

        @Override
        Supplier<Map<String, Object>> clusterStats() {
            return () -> {
                Map<String, Object> m = new LinkedHashMap<>(queue.stats());
                CallbackTasks tasks = callbackTasks;
                m.put("callback_tasks", tasks == null ? 0 : tasks.length());
                m.put("acknowledgement", durability.describe());
                return m;
            };
        }

        @Override
        Predicate<String> nodeAlive() {
            return nodes::alive;
        }

        /** The heartbeat goes first, so that this node counts as alive before it holds any work. */
        @Override
        void startHeartbeat(Supplier<Map<String, Object>> stats) {
            heartbeat = stats;
            nodes.start();
        }

        /** AWX-style emitters are trusted writers, held to the same rule as HTTP ingest ({@link JobAccess}). */
        @Override
        void startIntake(EventDecoder decoder, JobAccess access) {
            CallbackTasks tasks = new CallbackTasks(
                    redis,
                    cluster.nodeName(),
                    decoder,
                    queue,
                    nodes::alive,
                    cluster.nodeTimeout(),
                    registry,
                    ids -> refusals(access.emitterWrites(ids)));
            tasks.start();
            callbackTasks = tasks;
        }

        /**
         * A write verdict as the Redis consumer takes it: refused job id → reason. A check the database could not
         * answer throws, so that the consumer keeps the messages and tries again instead of dead-lettering them.
         */
        private static Map<Long, String> refusals(JobAccess.Writes writes) {
            Map<Long, String> out = new HashMap<>();
            writes.refused().forEach((id, r) -> {
                if (r.tag().equals(JobAccess.UNAVAILABLE)) throw new IllegalStateException(r.reason());
                out.put(id, r.reason());
            });
            return out;
        }

        @Override
        void stopIntake() {
            if (callbackTasks != null) callbackTasks.close();
        }

        @Override
        void closeQueue() {
            if (queue != null) queue.close();
        }

        @Override
        public void close() {
            if (relay != null) relay.close();
            else local.close();
            if (nodes != null) nodes.close();
            if (redis != null) redis.close();
        }
    }
}
