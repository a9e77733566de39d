package io.jobstream.redis;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * What an ingest 2xx is worth in cluster mode. The reply comes once the events are appended to the Redis stream (SPEC
 * §2: "committed, or in a durable queue"), so their durability is Redis': with {@code appendfsync always} they are on
 * disk, with {@code everysec} a Redis crash loses nothing but a host crash can lose the last second, with {@code no}
 * the OS decides when, and without AOF they are in memory until the next RDB snapshot, if any. Read at start from
 * CONFIG GET (often renamed or refused by ACL in managed Redis: then INFO's {@code aof_enabled}, which says whether
 * there is an AOF but not how often it is fsync'd), logged, shown in stats and as the {@link Metrics#REDIS_ACK_DURABILITY}
 * gauge, and read again at most once a minute when stats ask, since CONFIG SET can change it at any time.
 *
 * <p>With {@code redis.wait-aof}, intake waits after its XADDs for WAITAOF to report the local fsync, which makes a 2xx
 * mean "on Redis' disk" even under {@code everysec}, for about half a second more per request. WAITAOF came with Redis
 * 7.2 and refuses to run without AOF, so {@link #check} refuses to start a node asking for it where it cannot work.
 */
public final class RedisDurability {
    private static final Logger log = LoggerFactory.getLogger(RedisDurability.class);
    private static final Duration RECHECK = Duration.ofMinutes(1);

    /** What an acknowledged event survives; {@code rank} is the gauge's value. */
    public enum Ack {
        WAITAOF(3, "committed to Redis AOF and fsync'd before the reply (redis.wait-aof)"),
        FSYNC_ALWAYS(3, "committed to Redis AOF with fsync always"),
        FSYNC_EVERYSEC(
                2, "in Redis AOF, fsync'd within 1 s: a Redis crash loses nothing, a host crash up to about 1 s"),
        FSYNC_BY_OS(1, "in Redis AOF, fsync'd when the OS flushes (appendfsync no): a host crash can lose about 30 s"),
        AOF_FSYNC_UNKNOWN(1, "in Redis AOF, fsync policy unknown (CONFIG is not available)"),
        MEMORY_ONLY(0, "in memory only: Redis has no AOF, so a Redis restart loses what its last snapshot lacks"),
        UNKNOWN(0, "unknown: Redis' persistence could not be read");

        final int rank;
        final String words;

        Ack(int rank, String words) {
            this.rank = rank;
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /** One reading of Redis' settings; null fields were not readable. */
    record Reading(String version, String appendonly, String appendfsync, Ack ack) {}

    private final RedisClient redis;
    private final boolean waitAof;
    private volatile Reading reading;
    private long readAt;

    public RedisDurability(RedisConnection redis, boolean waitAof, MeterRegistry registry) {
        this.redis = redis.client();
        this.waitAof = waitAof;
        Gauge.builder(Metrics.REDIS_ACK_DURABILITY, this, d -> d.reading == null ? 0 : d.reading.ack().rank)
                .description("what an ingest 2xx is worth: 3 fsync'd before the reply, 2 fsync'd within 1 s, 1 when the"
                        + " OS flushes, 0 memory only or unknown")
                .register(registry);
    }

    /**
     * Reads Redis' persistence and logs what a 2xx means; throws when {@code redis.wait-aof} is asked of a Redis that
     * cannot do it (older than 7.2, or without AOF), naming what it found.
     */
    public Ack check() {
        Reading r = refresh();
        if (waitAof && r.ack() != Ack.WAITAOF) {
            throw new IllegalStateException("redis.wait-aof needs Redis >= 7.2 with appendonly yes; this Redis is "
                    + (r.version() == null ? "of unknown version" : r.version()) + " with appendonly "
                    + (r.appendonly() == null ? "unknown" : r.appendonly()));
        }
        if (r.ack().rank >= 3) {
            log.info("an ingest 2xx means the events are {}", r.ack().words());
        } else {
            log.warn(
                    "an ingest 2xx means the events are {}; see docs/OPERATIONS.md \"What a 2xx promises\"",
                    r.ack().words());
        }
        return r.ack();
    }

    /** Whether intake waits for the AOF fsync (WAITAOF) before answering. */
    public boolean waitsForFsync() {
        return waitAof;
    }

    /** For stats: the acknowledgement's worth and what it was read from (read again when a minute old). */
    public Map<String, Object> describe() {
        Reading r;
        synchronized (this) {
            r = System.nanoTime() - readAt > RECHECK.toNanos() ? refresh() : reading;
        }
        return describe(r, waitAof);
    }

    /** The same from a client of its own, for {@code ./jobstream stats --redis-url} (the cluster as Redis sees it). */
    static Map<String, Object> describe(RedisClient redis) {
        return describe(read(redis, false), false);
    }

    private static Map<String, Object> describe(Reading r, boolean waitAof) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("level", r.ack().name().toLowerCase());
        m.put("means", r.ack().words());
        m.put("redis_version", r.version());
        m.put("appendonly", r.appendonly());
        m.put("appendfsync", r.appendfsync());
        m.put("wait_aof", waitAof);
        return m;
    }

    private synchronized Reading refresh() {
        Reading previous = reading;
        Reading r = read(redis, waitAof);
        reading = r;
        readAt = System.nanoTime();
        if (previous != null && previous.ack() != r.ack()) {
            log.warn(
                    "Redis persistence changed: an ingest 2xx now means the events are {}",
                    r.ack().words());
        }
        return r;
    }

    private static Reading read(RedisClient redis, boolean waitAof) {
        String version = null;
        String appendonly = null;
        String appendfsync = null;
        try {
            version = field(redis.info("server"), "redis_version");
            try {
                appendonly = redis.configGet("appendonly").get("appendonly");
                appendfsync = redis.configGet("appendfsync").get("appendfsync");
            } catch (JedisDataException renamedOrRefused) {
                String aof = field(redis.info("persistence"), "aof_enabled");
                appendonly = "1".equals(aof) ? "yes" : "0".equals(aof) ? "no" : null;
                log.debug("CONFIG GET failed ({}); aof_enabled from INFO: {}", renamedOrRefused.getMessage(), aof);
            }
        } catch (RuntimeException e) {
            log.warn("could not read Redis' persistence settings: {}", e.toString());
        }
        return new Reading(version, appendonly, appendfsync, ack(version, appendonly, appendfsync, waitAof));
    }

    private static Ack ack(String version, String appendonly, String appendfsync, boolean waitAof) {
        if (appendonly == null) return Ack.UNKNOWN;
        if (!appendonly.equals("yes")) return Ack.MEMORY_ONLY;
        if (waitAof && atLeast(version, 7, 2)) return Ack.WAITAOF;
        if (appendfsync == null) return Ack.AOF_FSYNC_UNKNOWN;
        return switch (appendfsync) {
            case "always" -> Ack.FSYNC_ALWAYS;
            case "everysec" -> Ack.FSYNC_EVERYSEC;
            default -> Ack.FSYNC_BY_OS;
        };
    }

    static boolean atLeast(String version, int major, int minor) {
        if (version == null) return false;
        String[] parts = version.split("\\.");
        try {
            int ma = Integer.parseInt(parts[0]);
            int mi = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A {@code name:value} line of an INFO section; null when absent. */
    private static String field(String info, String name) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(name + ":"))
                return line.substring(name.length() + 1).trim();
        }
        return null;
    }
}
