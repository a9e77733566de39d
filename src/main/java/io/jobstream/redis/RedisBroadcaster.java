package io.jobstream.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.broadcast.Broadcaster;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.BinaryJedisPubSub;
import redis.clients.jedis.RedisClient;

/**
 * The cluster's {@link Broadcaster}: a committed batch goes to this node's subscribers directly (through the local
 * {@link MemoryBroadcaster}) and, through Redis pub/sub, to the other nodes' local broadcasters: each job's events on a
 * channel of the job's own ({@code jobstream:broadcast:job:<id>}), the batch's job changes and every status change on
 * the shared channel {@link RedisKeys#BROADCAST}. A node subscribes to a job's channel while a subscriber on it
 * watches the job (the hub says when a job's group gets its first member and loses its last), so it receives the events
 * its subscribers follow and every job's changes, not every event committed anywhere, whichever node committed it.
 *
 * <p>Delivery is at-least-once per committing node and carries no order across nodes; Redis pub/sub also drops
 * messages for a node whose subscription is down (Redis restart), and a job's channel carries nothing to a node before
 * its subscription is confirmed. Exactly-once, in-order delivery per subscriber is built above this, in the websocket
 * layer (next expected counter per subscriber; duplicates dropped; gaps read from the store, the tail of a job when its
 * EOF commits, and everything after the position of its subscribers when the job's channel is confirmed, which
 * {@link GroupMember#recheck} asks for), which is why a relay that is merely "usually complete" is enough here. One
 * connection publishes a batch's messages in order (events, then changes) and one connection receives them, so a
 * node gets a job's events before the change that ends it. Publishing runs on the receiver thread (one pipeline per
 * batch); a Redis failure is counted and logged, never retried into the receiver.
 *
 * <p>A node's own messages come back to it on the channels it subscribes to and are dropped by their first bytes;
 * of a message from a node of an older version (every batch on the shared channel), only the watched jobs' events
 * are decoded, the others give their times to the hop histograms.
 */
public final class RedisBroadcaster implements Broadcaster {
    private static final Logger log = LoggerFactory.getLogger(RedisBroadcaster.class);
    private static final java.time.Duration SKIP_AFTER_FAILURE = java.time.Duration.ofSeconds(1);
    private static final byte[] CHANNEL = RedisKeys.BROADCAST.getBytes(StandardCharsets.UTF_8);

    private final MemoryBroadcaster local;
    private final RedisClient redis;
    private final RedisClient subscriber;
    private final String node;
    /** How this node's own compact relay messages start: Redis sends them back to it, to be dropped undecoded. */
    private final byte[] ownPrefix;

    private final Counter published;
    private final Counter received;
    private final Counter failures;
    private final Relay relay = new Relay();
    /** Jobs whose channel this node has subscribed to on the current connection (guards the subscription writes). */
    private final Set<Long> subscriptions = new HashSet<>();

    private final Thread thread;
    private volatile boolean closed;
    private volatile long skipUntil = System.nanoTime();

    public RedisBroadcaster(MemoryBroadcaster local, RedisConnection redis, String node, MeterRegistry registry) {
        this.local = local;
        this.redis = redis.client();
        this.subscriber = redis.openSubscriber();
        this.node = node;
        this.ownPrefix = CompactMessage.originPrefix(node);
        this.published = registry.counter(Metrics.RELAY_PUBLISHED);
        this.received = registry.counter(Metrics.RELAY_RECEIVED);
        this.failures = registry.counter(Metrics.RELAY_FAILURES);
        this.thread = new Thread(this::listen, "jobstream-broadcast-relay");
        thread.setDaemon(true);
    }

    public void start() {
        local.hub().watchers(group -> {
            try {
                sync(List.of(group));
            } catch (RuntimeException e) { // the next connection subscribes to what is watched then
                log.warn("broadcast relay: could not follow {}: {}", group, e.toString());
            }
        });
        thread.start();
        Thread pinger = new Thread(this::ping, "jobstream-broadcast-ping");
        pinger.setDaemon(true);
        pinger.start();
    }

    /** Keeps the idle subscription's read timeout from firing, and finds a dead connection within the timeout. */
    private void ping() {
        while (!closed) {
            try {
                Thread.sleep(RedisConnection.SUBSCRIBER_PING_MILLIS);
                pingSubscription();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.debug("ping on the subscription failed: {}", e.toString()); // the listen loop resubscribes
            }
        }
    }

    /** One PING on the subscription, if it is subscribed (its PONG is read by the listening thread). */
    void pingSubscription() {
        synchronized (subscriptions) {
            if (relay.isSubscribed()) relay.ping();
        }
    }

    /**
     * Delivers locally, then relays: each job's events on the job's channel, then the batch's job changes on the shared
     * one, all in one pipeline. One connection publishes them in this order and one connection receives them, so a
     * node gets a job's events before the change that ends it.
     */
    @Override
    public void publish(CommittedBatch batch) {
        local.publish(batch);
        if (batch.events().isEmpty() && batch.jobChanges().isEmpty()) return;
        Map<Long, List<StoredEvent>> byJob = new LinkedHashMap<>();
        long lastJob = Long.MIN_VALUE;
        List<StoredEvent> run = null;
        for (StoredEvent e : batch.events()) {
            if (e.event().jobId() != lastJob) { // batches are mostly runs of one job
                lastJob = e.event().jobId();
                run = byJob.computeIfAbsent(lastJob, k -> new ArrayList<>());
            }
            run.add(e);
        }
        List<Message> messages = new ArrayList<>(byJob.size() + 1);
        for (Map.Entry<Long, List<StoredEvent>> job : byJob.entrySet()) {
            messages.add(new Message(
                    RedisKeys.jobChannel(job.getKey()),
                    ClusterCodec.encode(node, new CommittedBatch(job.getValue(), List.of(), batch.committed()))));
        }
        if (!batch.jobChanges().isEmpty()) {
            messages.add(new Message(
                    RedisKeys.BROADCAST,
                    ClusterCodec.encode(node, new CommittedBatch(List.of(), batch.jobChanges(), batch.committed()))));
        }
        send(messages);
    }

    /** A status change that does not come from a committed batch (job launch, cancel, reaper), to every node. */
    @Override
    public void publishStatus(long jobId, String status, Instant finishedOrNull) {
        local.publishStatus(jobId, status, finishedOrNull);
        send(List.of(new Message(
                RedisKeys.BROADCAST,
                ClusterCodec.encodeStatus(
                        node, jobId, status, finishedOrNull == null ? null : Timestamps.micros(finishedOrNull)))));
    }

    /** One PUBLISH. */
    private record Message(String channel, String text) {}

    /** Publishes the messages in order, in one round trip. */
    private void send(List<Message> messages) {
        // After a failure, skip Redis for a second: an unreachable host costs a connect timeout per attempt, and
        // the receiver thread must not pay it on every batch.
        if (System.nanoTime() < skipUntil) {
            failures.increment();
            return;
        }
        try {
            try (AbstractPipeline p = redis.pipelined()) {
                for (Message m : messages) p.publish(m.channel(), m.text());
                p.sync();
            }
            published.increment(messages.size());
        } catch (RuntimeException e) {
            failures.increment();
            skipUntil = System.nanoTime() + SKIP_AFTER_FAILURE.toNanos();
            log.warn(
                    "could not relay a committed batch to other nodes: {} (their subscribers catch up from the store)",
                    e.toString());
        }
    }

    /** Subscribes, and subscribes again after Redis went away, until closed. */
    private void listen() {
        boolean failing = false;
        while (!closed) {
            try {
                if (failing) log.info("broadcast relay: subscribing again");
                subscriber.subscribe(relay, CHANNEL);
            } catch (RuntimeException e) {
                if (closed) return;
                failures.increment(); // messages published meanwhile are not relayed to this node
                if (!failing) log.warn("broadcast relay: subscription lost: {}; retrying", e.toString());
                failing = true;
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * Brings this connection's job channels in line with the hub: subscribed for every job watched here, and only
     * those. Called when a job's group gets its first member or loses its last (a websocket thread), and when the
     * shared channel is subscribed (again) on a new connection, which starts with none.
     */
    private void sync(Iterable<String> groups) {
        synchronized (subscriptions) {
            if (!relay.isSubscribed()) return; // the new connection's subscription calls this again, with every group
            List<byte[]> on = new ArrayList<>();
            List<byte[]> off = new ArrayList<>();
            for (String group : groups) {
                long job = EventMessages.jobOfEventsGroup(group);
                if (job <= 0) continue;
                boolean want = local.watches(job);
                if (want && subscriptions.add(job)) on.add(channel(job));
                else if (!want && subscriptions.remove(job)) off.add(channel(job));
            }
            if (!on.isEmpty()) relay.subscribe(on.toArray(byte[][]::new));
            if (!off.isEmpty()) relay.unsubscribe(off.toArray(byte[][]::new));
        }
    }

    private static byte[] channel(long job) {
        return RedisKeys.jobChannel(job).getBytes(StandardCharsets.UTF_8);
    }

    private void deliver(String message) {
        if (CompactMessage.isCompact(message)) { // a batch (this node's were dropped by their prefix); status is JSON
            received.increment();
            CompactMessage.Relayed relayed = CompactMessage.decodeBatch(message, local::watches);
            CompactMessage.Hops skipped = relayed.skipped();
            local.publishRelayed(relayed.wanted(), skipped.created(), skipped.received(), skipped.size());
            return;
        }
        JsonNode root = ClusterCodec.read(message);
        if (node.equals(root.path("origin").asText())) return; // delivered locally when published
        received.increment();
        JsonNode status = root.get("status");
        if (status != null) {
            local.publishStatus(
                    status.path("job").asLong(),
                    status.path("status").asText(),
                    status.hasNonNull("finished")
                            ? Timestamps.ofMicros(status.get("finished").asLong())
                            : null);
        } else {
            local.publish(ClusterCodec.batch(root));
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (relay.isSubscribed()) relay.unsubscribe();
        } catch (RuntimeException e) {
            log.debug("unsubscribe failed", e);
        }
        subscriber.close();
        local.close();
    }

    /**
     * Reads the channels as bytes: a node's own messages come back on the channels it subscribes to, and are dropped by
     * their first bytes before any decoding (a batch of AWX's events is kilobytes per event). Its callbacks run on the
     * listening thread; subscription changes from other threads are written under {@code subscriptions}.
     */
    private final class Relay extends BinaryJedisPubSub {
        @Override
        public void onSubscribe(byte[] channel, int subscribedChannels) {
            String name = new String(channel, StandardCharsets.UTF_8);
            if (name.equals(RedisKeys.BROADCAST)) { // a new connection: none of its job channels yet
                synchronized (subscriptions) {
                    subscriptions.clear();
                }
                sync(local.hub().groupNames());
            } else if (name.startsWith(RedisKeys.JOB_CHANNEL_PREFIX)) {
                // from now on this node gets the job's events; what was committed before may have passed it by
                local.hub().recheck(Long.parseLong(name.substring(RedisKeys.JOB_CHANNEL_PREFIX.length())));
            }
        }

        @Override
        public void onMessage(byte[] channel, byte[] message) {
            if (Arrays.equals(message, 0, Math.min(message.length, ownPrefix.length), ownPrefix, 0, ownPrefix.length))
                return; // delivered locally when published
            try {
                deliver(new String(message, StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                failures.increment();
                log.warn("broadcast relay: could not deliver a message from another node: {}", e.toString());
            }
        }
    }
}
