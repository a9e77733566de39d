package io.jobstream.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.jobstream.config.ConfigException;
import io.jobstream.event.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Node discovery: each node keeps a key {@code jobstream:node:<name>} alive (SET with a TTL of
 * {@code redis.node-timeout}, refreshed every second, or four times per timeout if shorter) whose value is the node's
 * stats as JSON. A node is dead when that key is gone, or, found much sooner, when Redis has no connection of it any
 * more: the heartbeat goes over a connection of its own named after the key, which the kernel closes when the process
 * dies (even by SIGKILL), so CLIENT LIST stops showing it at once. Others then claim its uncommitted stream entries
 * and its {@code callback_tasks} messages within a second, instead of after the timeout, which is what keeps
 * subscribers waiting at a hole short. Where CLIENT is renamed or not allowed, the key's TTL alone decides. A node
 * that merely lost its connection for a moment (Redis restarted) reconnects at its next beat; what was claimed from
 * it meanwhile is committed twice, which the store's idempotence absorbs. The same keys let
 * {@code ./jobstream stats --redis-url} show the whole cluster with one SCAN.
 */
public final class RedisNodes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisNodes.class);

    private static final Duration BEAT_AT_MOST = Duration.ofSeconds(1);
    /** How long one CLIENT LIST answers {@link #alive} (it is asked once per other node per claim round). */
    private static final long CONNECTIONS_FRESH_NANOS = Duration.ofMillis(200).toNanos();

    /** Past its timeout, how long a heartbeat key may take to go (Redis expires keys lazily and in passes). */
    private static final Duration NAME_GRACE = Duration.ofSeconds(1);

    private final RedisClient redis;
    private final RedisConnection connection;
    private RedisClient presence;
    private final String node;
    private final Duration timeout;
    private final Supplier<Map<String, Object>> stats;
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean clientListWorks = true;
    private Set<String> connected = Set.of(); // guarded by this
    private long connectedAt;

    public RedisNodes(RedisConnection redis, String node, Duration timeout, Supplier<Map<String, Object>> stats) {
        this.redis = redis.client();
        this.connection = redis;
        this.node = node;
        this.timeout = timeout;
        this.stats = stats;
        this.thread = new Thread(this::run, "jobstream-heartbeat");
        thread.setDaemon(true);
    }

    /**
     * Writes the first heartbeat before returning, so the node counts as alive before it takes any work. Refuses to
     * start while another node with this name is running: the two would take each other's stream entries, and a node
     * finishes the launched jobs left under its name (a killed node's heartbeat is waited out, at most
     * {@code redis.node-timeout}; its Redis connection closed with it, so usually not at all).
     */
    public void start() {
        refuseNameInUse();
        presence = connection.openNamed(RedisKeys.node(node));
        try {
            beat();
        } catch (JedisDataException e) { // e.g. CLIENT SETNAME refused (a proxy): then the key's TTL alone tells
            log.warn(
                    "could not name this node's Redis connection ({}); others find it dead after redis.node-timeout",
                    e.getMessage());
            presence.close();
            presence = redis;
            beat();
        }
        thread.start();
    }

    private void refuseNameInUse() {
        long deadline = System.nanoTime() + timeout.toNanos() + NAME_GRACE.toNanos();
        boolean said = false;
        while (nameInUse()) {
            if (System.nanoTime() - deadline > 0) {
                throw new ConfigException(List.of("another node named '" + node + "' is running (its Redis heartbeat"
                        + " is live): give every node of a cluster its own --node-name"));
            }
            if (!said) {
                log.info("a heartbeat of a node named '{}' is live; waiting for it to expire", node);
                said = true;
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the node name " + node, e);
            }
        }
    }

    /** A heartbeat under this node's name, from a connection still open (or any, when CLIENT LIST is refused). */
    private boolean nameInUse() {
        String key = RedisKeys.node(node);
        if (!redis.exists(key)) return false;
        Set<String> names = connectedNames(true); // first: it finds out whether CLIENT LIST works
        return !clientListWorks || names.contains(key);
    }

    private void run() {
        long every = Math.max(250, Math.min(BEAT_AT_MOST.toMillis(), timeout.toMillis() / 4));
        while (!closed) {
            try {
                Thread.sleep(every);
            } catch (InterruptedException e) {
                return;
            }
            try {
                beat();
            } catch (RuntimeException e) {
                log.debug("heartbeat failed: {}", e.toString());
            }
        }
    }

    private void beat() {
        String value;
        try {
            value = Json.MAPPER.writeValueAsString(stats.get());
        } catch (JsonProcessingException | RuntimeException e) {
            value = "{\"node\":\"" + node + "\"}";
        }
        presence.psetex(RedisKeys.node(node), timeout.toMillis(), value);
    }

    /** Whether {@code name} has a live heartbeat; true when Redis cannot tell (never claim on a guess). */
    public boolean alive(String name) {
        if (name.equals(node)) return true;
        try {
            if (!redis.exists(RedisKeys.node(name))) return false;
            // a name missing from a list up to 200 ms old is looked up afresh: it may have connected since
            return !clientListWorks
                    || connectedNames(false).contains(RedisKeys.node(name))
                    || connectedNames(true).contains(RedisKeys.node(name));
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** The names of the connections Redis has: now, or at most {@link #CONNECTIONS_FRESH_NANOS} old. */
    private synchronized Set<String> connectedNames(boolean now) {
        long at = System.nanoTime();
        if (!now && at - connectedAt < CONNECTIONS_FRESH_NANOS) return connected;
        if (!clientListWorks) return connected;
        Object reply;
        try {
            reply = redis.sendCommand(Protocol.Command.CLIENT, "LIST", "TYPE", "normal");
        } catch (JedisDataException e) { // renamed, disabled or not allowed by ACL: the heartbeat key alone decides
            clientListWorks = false;
            log.info(
                    "CLIENT LIST is not available ({}); a dead node is found when its heartbeat expires"
                            + " (redis.node-timeout)",
                    e.getMessage());
            return connected;
        }
        Set<String> names = new HashSet<>();
        String text = reply instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(reply);
        for (String line : text.split("\n")) {
            for (String field : line.split(" ")) {
                if (field.startsWith("name=") && field.length() > 5) names.add(field.substring(5));
            }
        }
        connected = names;
        connectedAt = at;
        return names;
    }

    /** Stops the heartbeat and removes the key, so that the others take over at once what this node left. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2_000);
            redis.del(RedisKeys.node(node));
            if (presence != null && presence != redis) presence.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("could not remove the heartbeat key: {}", e.toString());
        }
    }

    /**
     * The whole cluster as Redis sees it: each live node's last published stats (name to JSON text) and the shared
     * queues. For {@code ./jobstream stats --redis-url}.
     */
    public static Map<String, Object> cluster(String redisUrl) {
        try (RedisClient redis = RedisKeys.connect(redisUrl, 2)) {
            Map<String, Object> nodes = new TreeMap<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = redis.scan(
                        cursor,
                        new ScanParams().match(RedisKeys.NODE_PREFIX + "*").count(100));
                List<String> keys = page.getResult();
                if (!keys.isEmpty()) {
                    List<String> values = redis.mget(keys.toArray(String[]::new));
                    for (int i = 0; i < keys.size(); i++) {
                        if (values.get(i) != null) {
                            nodes.put(
                                    keys.get(i).substring(RedisKeys.NODE_PREFIX.length()),
                                    Json.MAPPER.readTree(values.get(i)));
                        }
                    }
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            Map<String, Object> queues = new LinkedHashMap<>();
            queues.put("callback_tasks", redis.llen(RedisKeys.CALLBACK_TASKS));
            queues.put("stream_length", redis.exists(RedisKeys.EVENTS) ? redis.xlen(RedisKeys.EVENTS) : 0L);
            queues.put("queued_events", StreamScripts.queued(redis));
            if (redis.exists(RedisKeys.EVENTS)) {
                var summary = redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP);
                queues.put("pending", summary.getTotal());
                queues.put(
                        "pending_by_node",
                        summary.getConsumerMessageCount() == null ? Map.of() : summary.getConsumerMessageCount());
            }
            queues.put("dead_letters", redis.exists(RedisKeys.DEAD) ? redis.xlen(RedisKeys.DEAD) : 0L);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("queues", queues);
            out.put("acknowledgement", RedisDurability.describe(redis));
            out.put("nodes", nodes);
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a node published stats that are not JSON", e);
        }
    }
}
