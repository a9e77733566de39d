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
import java.util.ArrayDeque;
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
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamPendingSummary;
import redis.clients.jedis.util.KeyValue;

/**
 * The cluster's {@link EventQueue}: a Redis stream ({@link RedisKeys#EVENTS}) read through one consumer group, one
 * consumer per node.
 *
 * <p>Design note. Intake ({@link #offerAll}, on HTTP threads) appends what one request (or one move from
 * {@code callback_tasks}) brought as batch entries, each of up to {@link #ENTRY_MESSAGES} messages or about
 * {@link #ENTRY_CHARS} chars ({@link CompactMessage#encodeBatchEntries}), with one script call ({@link StreamScripts}),
 * and completes the receipts at once: the events are durable in Redis (with AOF), which SPEC §2 accepts for a 2xx,
 * and the committing node may be another one. An entry, not an event, is the unit of read, claim and
 * acknowledgement: the stream's fixed cost per entry (XADD, XREADGROUP, XACK, XDEL, the AOF's record of each) is paid
 * once per batch rather than once per event, which was most of Redis's CPU per small event. The node's receiver
 * ({@link #drainTo}, one thread) reads with XREADGROUP; an entry's messages wait in this node's hand ({@code ready})
 * until drained, so a drain still hands out at most {@code max}; the receipts remember their entry, and the entry
 * is acknowledged (XACK, then XDEL so the stream holds only uncommitted entries) at the start of the drain after its
 * last message was reported, that is after all of them committed. A node that dies between read and commit leaves
 * its entries pending in the group, whole; once its heartbeat has expired, any other node claims them (XPENDING +
 * XCLAIM) and commits them; the store ignores the duplicates of messages that had in fact committed
 * ({@link DeadNodeClaims}). An entry delivered {@link DeadNodeClaims#MAX_DELIVERIES} times (it kept killing nodes)
 * goes to the dead-letter stream instead, one dead letter per message. The stream is never trimmed: the bound is
 * {@code queue.capacity} events (a counter kept with the entries, {@link StreamScripts}), past which intake refuses
 * (503) the whole request instead of trimming uncommitted data. Redis errors never escape: intake refuses, the
 * drainer waits and tries again, the client reconnects. Time (the claim cadence, the pause after an error) comes from
 * the injected {@link Clock} and {@link Sleeper}, so tests move it by hand.
 */
public final class RedisEventQueue implements EventQueue, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisEventQueue.class);
    /** Most messages in one stream entry: an entry is also what a claim takes over whole. */
    static final int ENTRY_MESSAGES = 1_000;

    /**
     * An entry's text after which the next message starts a new entry (one event may be up to 1 MiB): an entry, like
     * one event before batching, is at most about 1 MiB, so reading {@code max} entries holds no more than before.
     */
    static final int ENTRY_CHARS = 1 << 20;
    /** Under the commands' 2 s read timeout; everysec fsyncs within about 1 s. */
    private static final long WAIT_AOF_MILLIS = 1_500;

    private final RedisClient redis;
    private final String consumer;
    private final int capacity;
    private final DeadNodeClaims claims;
    private final Counter appended;
    private final Counter redisErrors;
    private final List<StreamScripts.Done> toAck = new ArrayList<>();
    /** Messages read from entries and not yet handed to the receiver, oldest first (receiver thread only). */
    private final ArrayDeque<Envelope> ready = new ArrayDeque<>();
    /** Messages per entry in the last read, so that the next read asks for about {@code max} messages' entries. */
    private double perEntry = 1;

    private volatile long backlog;
    private final AtomicLong inHand = new AtomicLong();
    private boolean ownPendingDone;
    private volatile boolean redisDown;
    private final StreamWatermark watermark;
    private final boolean waitAof;
    private final Clock clock;
    private final Sleeper sleeper;

    /**
     * @param consumer      this node's consumer name in the group
     * @param capacity      most uncommitted events in the stream (cluster-wide) before intake answers 503
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
        try {
            this.backlog = StreamScripts.queued(this.redis);
        } catch (RuntimeException e) {
            log.debug("could not read the stream's event count at start: {}", e.toString());
        }
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
        if (envelopes.size() > capacity) return false;
        long queued;
        try {
            List<JobMessage> messages = new ArrayList<>(envelopes.size());
            for (Envelope e : envelopes) messages.add(e.message());
            var entries = CompactMessage.encodeBatchEntries(messages, ENTRY_MESSAGES, ENTRY_CHARS);
            Response<Object> added;
            Response<KeyValue<Long, Long>> fsynced = null;
            try (AbstractPipeline p = redis.pipelined()) {
                added = StreamScripts.append(p, capacity, entries);
                // same connection as the XADDs, which is what WAITAOF waits for
                if (waitAof) fsynced = p.waitAOF(RedisKeys.EVENTS, 1, 0, WAIT_AOF_MILLIS);
                p.sync();
            }
            queued = (Long) added.get(); // throws if the script failed
            if (queued < 0) return false; // the stream holds queue.capacity events: nothing added
            if (fsynced != null && fsynced.get().getKey() < 1) {
                // appended but not known to be on disk: not acknowledged; the retry's duplicates are ignored
                log.debug(
                        "Redis did not fsync {} appended entries within {} ms; answering 503",
                        envelopes.size(),
                        WAIT_AOF_MILLIS);
                return false;
            }
        } catch (RuntimeException e) {
            // The script adds all or nothing, but a WAITAOF failure comes after it: the emitter's retry makes
            // duplicates, which the store ignores.
            noteError("append", e);
            return false;
        }
        redisDown = false;
        appended.increment(envelopes.size());
        backlog = queued;
        for (Envelope e : envelopes) e.receipt().stored();
        return true;
    }

    @Override
    public int drainTo(List<Envelope> sink, int max, Duration timeout) throws InterruptedException {
        try {
            acknowledge();
            if (ready.isEmpty()) fill(entriesFor(max), timeout);
            redisDown = false;
        } catch (JedisDataException e) {
            if (!String.valueOf(e.getMessage()).contains("NOGROUP")) throw e;
            // Redis lost its data (restarted without persistence): what it held is gone, but we can go on
            log.error("the consumer group is gone (Redis restarted without AOF?); creating it again");
            createGroup();
        } catch (RuntimeException e) {
            noteError("read", e);
            sleeper.sleep(timeout.compareTo(Duration.ofMillis(100)) > 0 ? timeout : Duration.ofMillis(100));
        }
        int n = 0;
        while (n < max && !ready.isEmpty()) {
            sink.add(ready.poll());
            n++;
        }
        return n;
    }

    /** Reads entries into {@link #ready}: this node's own unfinished ones first, then a dead node's, then new ones. */
    private void fill(int entries, Duration timeout) {
        if (!ownPendingDone) {
            // Entries this consumer read before a restart under the same name: ours to finish first.
            if (read(entries, Duration.ZERO, new StreamEntryID(0, 0)) > 0) return;
            ownPendingDone = true;
        }
        if (claims.due() && claims.claim(entries, this::add) > 0) return;
        read(entries, timeout, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY);
    }

    /** About {@code max} messages' worth of entries, by the last read's messages per entry. */
    private int entriesFor(int max) {
        return (int) Math.max(1, Math.min(max, Math.round(max / perEntry)));
    }

    /** Returns how many messages the entries held. */
    private int read(int count, Duration block, StreamEntryID from) {
        XReadGroupParams params = XReadGroupParams.xReadGroupParams().count(count);
        if (!block.isZero()) params.block((int) Math.max(1, block.toMillis()));
        var result = redis.xreadGroup(RedisKeys.GROUP, consumer, params, Map.of(RedisKeys.EVENTS, from));
        if (result == null) return 0;
        int n = 0;
        int entries = 0;
        for (var stream : result) {
            for (StreamEntry entry : stream.getValue()) {
                entries++;
                if (entry.getFields() == null) { // deleted while pending (already committed): just acknowledge
                    toAck.add(new StreamScripts.Done(entry.getID(), 0));
                    continue;
                }
                n += add(entry);
            }
        }
        if (entries > 0) perEntry = Math.max(1.0, (double) n / entries);
        return n;
    }

    /** Puts an entry's messages in {@link #ready}; returns how many (0: it was unreadable and dead-lettered). */
    private int add(StreamEntry entry) {
        String text = entry.getFields().get("m");
        List<JobMessage> messages;
        try {
            messages = ClusterCodec.decodeEntry(text);
        } catch (RuntimeException e) {
            claims.deadLetter(entry.getID(), entry.getFields(), "unreadable: " + e.getMessage());
            return 0;
        }
        Entry held =
                new Entry(new StreamScripts.Done(entry.getID(), CompactMessage.batchEntryCount(text)), messages.size());
        inHand.addAndGet(messages.size());
        for (JobMessage m : messages) ready.add(new Envelope(m, new EntryReceipt(held)));
        return messages.size();
    }

    /** Acknowledges (and deletes) the entries all of whose messages the receiver has reported since the last drain. */
    private void acknowledge() {
        if (toAck.isEmpty()) return;
        StreamScripts.acknowledge(redis, toAck);
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
            s.put("queued_events", StreamScripts.queued(redis));
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

    /** A stream entry this node read: acknowledged once every one of its messages was reported. */
    private static final class Entry {
        final StreamScripts.Done done;
        int unreported;

        Entry(StreamScripts.Done done, int messages) {
            this.done = done;
            this.unreported = messages;
        }
    }

    /** Acknowledgement is deferred to the next drain: the receiver calls this right after the commit. */
    private final class EntryReceipt implements Receipt {
        private final Entry entry;

        EntryReceipt(Entry entry) {
            this.entry = entry;
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
            if (--entry.unreported == 0) toAck.add(entry.done);
        }
    }
}
