package io.jobstream.redis;

import io.jobstream.event.JobMessage;
import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.EventQueue;
import io.jobstream.queue.Receipt;
import io.jobstream.queue.Watermark;
import io.jobstream.time.MonotonicClock;
import io.jobstream.time.Sleeper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamPendingSummary;
import redis.clients.jedis.util.KeyValue;

/**
 * The cluster's {@link EventQueue}: a Redis stream ({@link RedisKeys#EVENTS}) read through one consumer group, one
 * consumer per node.
 *
 * <p>Design note. Intake ({@link #offerAll}, on HTTP threads) appends one entry per decoded message with pipelined
 * XADDs and completes the receipts at once: the event is durable in Redis (with AOF), which SPEC §2 accepts for a 2xx,
 * and the committing node may be another one. The node's receiver ({@link #drainTo}, one thread) reads with XREADGROUP;
 * the receipts it hands out remember the entry ids, and the entries are acknowledged (XACK, then XDEL so the stream
 * holds only uncommitted entries) at the start of the next drain, that is after the batch committed. A node that dies
 * between read and commit leaves its entries pending in the group; once its heartbeat has expired, any other node
 * claims them (XPENDING + XCLAIM) and commits them; the store ignores the duplicates of a batch that had in fact
 * committed ({@link DeadNodeClaims}). An entry delivered {@link DeadNodeClaims#MAX_DELIVERIES} times (it kept killing
 * nodes) goes to the dead-letter stream instead. The stream is never trimmed by length: the bound is
 * {@code queue.capacity} entries, past which intake refuses (503) instead of trimming uncommitted data. Redis errors
 * never escape: intake refuses, the drainer waits and tries again, the client reconnects. Time (the claim cadence, the
 * backlog's freshness, the pause after an error) comes from the injected {@link Clock} and {@link Sleeper}, so tests
 * move it by hand.
 */
public final class RedisEventQueue implements EventQueue, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisEventQueue.class);
    private static final Duration BACKLOG_FRESH = Duration.ofMillis(50);
    /** Under the commands' 2 s read timeout; everysec fsyncs within about 1 s. */
    private static final long WAIT_AOF_MILLIS = 1_500;

    private final RedisClient redis;
    private final String consumer;
    private final int capacity;
    private final DeadNodeClaims claims;
    private final Counter appended;
    private final Counter redisErrors;
    private final List<StreamEntryID> toAck = new ArrayList<>();
    private volatile long backlog;
    private volatile long backlogAt = Long.MIN_VALUE / 2;
    private final AtomicLong inHand = new AtomicLong();
    private boolean ownPendingDone;
    private volatile boolean redisDown;
    private final StreamWatermark watermark;
    private final boolean waitAof;
    private final Clock clock;
    private final Sleeper sleeper;

    /**
     * @param consumer      this node's consumer name in the group
     * @param capacity      most uncommitted entries in the stream (cluster-wide) before intake answers 503
     * @param consumerAlive whether a consumer (node) still has a heartbeat; only dead ones' entries are claimed
     */
    public RedisEventQueue(
            RedisConnection redis,
            String consumer,
            int capacity,
            Predicate<String> consumerAlive,
            MeterRegistry registry) {
        this(redis, consumer, capacity, consumerAlive, false, registry);
    }

    /** @param waitAof answer only once Redis has fsync'd the appended entries to its AOF (WAITAOF, Redis >= 7.2) */
    public RedisEventQueue(
            RedisConnection redis,
            String consumer,
            int capacity,
            Predicate<String> consumerAlive,
            boolean waitAof,
            MeterRegistry registry) {
        this(redis, consumer, capacity, consumerAlive, waitAof, registry, new MonotonicClock(), Sleeper.REAL);
    }

    /** As above, on the given time (tests: a manual clock, and a sleeper that advances it). */
    RedisEventQueue(
            RedisConnection redis,
            String consumer,
            int capacity,
            Predicate<String> consumerAlive,
            boolean waitAof,
            MeterRegistry registry,
            Clock clock,
            Sleeper sleeper) {
        this.clock = clock;
        this.sleeper = sleeper;
        this.waitAof = waitAof;
        this.redis = redis.client();
        this.consumer = consumer;
        this.capacity = capacity;
        this.appended = registry.counter(Metrics.REDIS_APPENDED);
        this.claims = new DeadNodeClaims(this.redis, consumer, consumerAlive, registry, clock);
        this.redisErrors = registry.counter(Metrics.REDIS_ERRORS);
        registry.gauge(Metrics.REDIS_STREAM_LENGTH, this, q -> q.backlog);
        this.watermark = new StreamWatermark(redis);
        createGroup();
    }

    /** Starts looking up the stream's watermark (a thread of its own); before the receiver drains. */
    public RedisEventQueue start() {
        watermark.start();
        return this;
    }

    /** Committed up to the oldest entry any node still holds, or that no node has read yet. */
    @Override
    public Watermark watermark() {
        return watermark;
    }

    private void createGroup() {
        try {
            redis.xgroupCreate(RedisKeys.EVENTS, RedisKeys.GROUP, new StreamEntryID(0, 0), true);
            log.info("created consumer group {} on {}", RedisKeys.GROUP, RedisKeys.EVENTS);
        } catch (JedisDataException e) {
            if (!String.valueOf(e.getMessage()).startsWith("BUSYGROUP")) throw e;
        }
    }

    @Override
    public boolean offerAll(List<Envelope> envelopes) {
        if (envelopes.isEmpty()) return true;
        try {
            if (backlog() + envelopes.size() > capacity) return false;
            List<Response<StreamEntryID>> ids = new ArrayList<>(envelopes.size());
            Response<KeyValue<Long, Long>> fsynced = null;
            try (AbstractPipeline p = redis.pipelined()) {
                for (Envelope e : envelopes) {
                    ids.add(p.xadd(
                            RedisKeys.EVENTS, XAddParams.xAddParams(), Map.of("m", ClusterCodec.encode(e.message()))));
                }
                // same connection as the XADDs, which is what WAITAOF waits for
                if (waitAof) fsynced = p.waitAOF(RedisKeys.EVENTS, 1, 0, WAIT_AOF_MILLIS);
                p.sync();
            }
            for (Response<StreamEntryID> id : ids) id.get(); // throws if one XADD failed
            if (fsynced != null && fsynced.get().getKey() < 1) {
                // appended but not known to be on disk: not acknowledged; the retry's duplicates are ignored
                log.debug(
                        "Redis did not fsync {} appended entries within {} ms; answering 503",
                        envelopes.size(),
                        WAIT_AOF_MILLIS);
                return false;
            }
        } catch (RuntimeException e) {
            // Some entries may be in the stream: the emitter's retry makes duplicates, which the store ignores.
            noteError("append", e);
            return false;
        }
        redisDown = false;
        appended.increment(envelopes.size());
        backlog += envelopes.size();
        for (Envelope e : envelopes) e.receipt().stored();
        return true;
    }

    /** Uncommitted entries in the stream (all nodes), at most {@link #BACKLOG_FRESH} old. */
    private long backlog() {
        long now = clock.millis();
        if (now - backlogAt > BACKLOG_FRESH.toMillis()) {
            backlog = redis.xlen(RedisKeys.EVENTS);
            backlogAt = now;
        }
        return backlog;
    }

    @Override
    public int drainTo(List<Envelope> sink, int max, Duration timeout) throws InterruptedException {
        try {
            acknowledge();
            if (!ownPendingDone) {
                // Entries this consumer read before a restart under the same name: ours to finish first.
                int n = read(sink, max, Duration.ZERO, new StreamEntryID(0, 0));
                if (n > 0) return n;
                ownPendingDone = true;
            }
            if (claims.due()) {
                int n = claims.claim(max, entry -> add(sink, entry));
                if (n > 0) return n;
            }
            int n = read(sink, max, timeout, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY);
            redisDown = false;
            return n;
        } catch (JedisDataException e) {
            if (!String.valueOf(e.getMessage()).startsWith("NOGROUP")) throw e;
            // Redis lost its data (restarted without persistence): what it held is gone, but we can go on
            log.error("the consumer group is gone (Redis restarted without AOF?); creating it again");
            createGroup();
            return 0;
        } catch (RuntimeException e) {
            noteError("read", e);
            sleeper.sleep(timeout.compareTo(Duration.ofMillis(100)) > 0 ? timeout : Duration.ofMillis(100));
            return 0;
        }
    }

    private int read(List<Envelope> sink, int max, Duration block, StreamEntryID from) {
        XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(max);
        if (!block.isZero()) params.block((int) Math.max(1, block.toMillis()));
        var result = redis.xreadGroup(RedisKeys.GROUP, consumer, params, Map.of(RedisKeys.EVENTS, from));
        if (result == null) return 0;
        int n = 0;
        for (var stream : result) {
            for (StreamEntry entry : stream.getValue()) {
                if (entry.getFields() == null) { // deleted while pending (already committed): just acknowledge
                    toAck.add(entry.getID());
                    continue;
                }
                n += add(sink, entry);
            }
        }
        return n;
    }

    private int add(List<Envelope> sink, StreamEntry entry) {
        JobMessage message;
        try {
            message = ClusterCodec.decodeMessage(entry.getFields().get("m"));
        } catch (RuntimeException e) {
            claims.deadLetter(entry.getID(), entry.getFields(), "unreadable: " + e.getMessage());
            return 0;
        }
        inHand.incrementAndGet();
        sink.add(new Envelope(message, new EntryReceipt(entry.getID())));
        return 1;
    }

    /** Acknowledges (and deletes) the entries whose fate the receiver has reported since the last drain. */
    private void acknowledge() {
        if (toAck.isEmpty()) return;
        StreamEntryID[] ids = toAck.toArray(StreamEntryID[]::new);
        try (AbstractPipeline p = redis.pipelined()) {
            p.xack(RedisKeys.EVENTS, RedisKeys.GROUP, ids);
            p.xdel(RedisKeys.EVENTS, ids);
            p.sync();
        }
        toAck.clear();
    }

    private void noteError(String what, RuntimeException e) {
        redisErrors.increment();
        if (!redisDown)
            log.warn("Redis {} failed: {}; intake answers 503 and the receiver retries", what, e.toString());
        redisDown = true;
    }

    /** This node's consumer name in the group. */
    String consumer() {
        return consumer;
    }

    /** Whether the last Redis command failed (for health and stats). */
    public boolean redisDown() {
        return redisDown;
    }

    /**
     * The {@code redis} entry of {@code /health}: "unreachable" while the last command failed. The queue's own
     * {@link #check()} (room left) stays the {@code queue} entry, so a Redis outage does not read as a full queue.
     */
    public CheckResult redisCheck() {
        return redisDown ? CheckResult.failed("unreachable") : CheckResult.OK;
    }

    /** Messages read by this node and not yet reported by the receiver. */
    @Override
    public int depth() {
        return (int) inHand.get();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    /** Cluster-wide figures for stats: stream length, pending per consumer, dead letters. */
    public Map<String, Object> stats() {
        Map<String, Object> s = new LinkedHashMap<>();
        try {
            s.put("stream_length", redis.xlen(RedisKeys.EVENTS));
            StreamPendingSummary summary = redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP);
            s.put("pending", summary.getTotal());
            s.put(
                    "pending_by_node",
                    summary.getConsumerMessageCount() == null ? Map.of() : summary.getConsumerMessageCount());
            s.put("dead_letters", redis.xlen(RedisKeys.DEAD));
        } catch (RuntimeException e) {
            s.put("error", e.toString());
        }
        return s;
    }

    /** Acknowledges what the receiver finished; call after the receiver stopped. Idempotent. */
    @Override
    public void close() {
        watermark.close();
        try {
            acknowledge();
        } catch (RuntimeException e) {
            log.warn(
                    "could not acknowledge {} committed entries ({}); they will be redelivered as duplicates",
                    toAck.size(),
                    e.toString());
        }
    }

    /** Acknowledgement is deferred to the next drain: the receiver calls this right after the commit. */
    private final class EntryReceipt implements Receipt {
        private final StreamEntryID id;

        EntryReceipt(StreamEntryID id) {
            this.id = id;
        }

        @Override
        public void stored() {
            done();
        }

        @Override
        public void duplicate() {
            done();
        }

        @Override
        public void failed(String reason) {
            done(); // parked by the store (a row in the parked table): acknowledged, not lost
        }

        private void done() {
            inHand.decrementAndGet();
            toAck.add(id);
        }
    }
}
