package io.jobstream.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.jobstream.event.Json;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Node discovery: each node keeps a key {@code jobstream:node:<name>} alive (SET with a TTL of
 * {@code redis.node-timeout}, refreshed four times per timeout) whose value is the node's stats as JSON. A node
 * without that key is dead: others claim its uncommitted stream entries and its {@code callback_tasks} messages.
 * The same keys let {@code ./jobstream stats --redis-url} show the whole cluster with one SCAN.
 */
public final class RedisNodes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisNodes.class);

    private final RedisClient redis;
    private final String node;
    private final Duration timeout;
    private final Supplier<Map<String, Object>> stats;
    private final Thread thread;
    private volatile boolean closed;

    public RedisNodes(RedisConnection redis, String node, Duration timeout, Supplier<Map<String, Object>> stats) {
        this.redis = redis.client();
        this.node = node;
        this.timeout = timeout;
        this.stats = stats;
        this.thread = new Thread(this::run, "jobstream-heartbeat");
        thread.setDaemon(true);
    }

    /** Writes the first heartbeat before returning, so the node counts as alive before it takes any work. */
    public void start() {
        beat();
        thread.start();
    }

    private void run() {
        long every = Math.max(250, timeout.toMillis() / 4);
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
        redis.psetex(RedisKeys.node(node), timeout.toMillis(), value);
    }

    /** Whether {@code name} has a live heartbeat; true when Redis cannot tell (never claim on a guess). */
    public boolean alive(String name) {
        if (name.equals(node)) return true;
        try {
            return redis.exists(RedisKeys.node(name));
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** Stops the heartbeat and removes the key, so that the others take over at once what this node left. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(2_000);
            redis.del(RedisKeys.node(node));
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
                ScanResult<String> page = redis.scan(cursor, new ScanParams().match(RedisKeys.NODE_PREFIX + "*").count(100));
                List<String> keys = page.getResult();
                if (!keys.isEmpty()) {
                    List<String> values = redis.mget(keys.toArray(String[]::new));
                    for (int i = 0; i < keys.size(); i++) {
                        if (values.get(i) != null) {
                            nodes.put(keys.get(i).substring(RedisKeys.NODE_PREFIX.length()), Json.MAPPER.readTree(values.get(i)));
                        }
                    }
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
            Map<String, Object> queues = new LinkedHashMap<>();
            queues.put("callback_tasks", redis.llen(RedisKeys.CALLBACK_TASKS));
            queues.put("stream_length", redis.exists(RedisKeys.EVENTS) ? redis.xlen(RedisKeys.EVENTS) : 0L);
            if (redis.exists(RedisKeys.EVENTS)) {
                var summary = redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP);
                queues.put("pending", summary.getTotal());
                queues.put("pending_by_node", summary.getConsumerMessageCount() == null ? Map.of()
                        : summary.getConsumerMessageCount());
            }
            queues.put("dead_letters", redis.exists(RedisKeys.DEAD) ? redis.xlen(RedisKeys.DEAD) : 0L);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("queues", queues);
            out.put("nodes", nodes);
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a node published stats that are not JSON", e);
        }
    }
}
