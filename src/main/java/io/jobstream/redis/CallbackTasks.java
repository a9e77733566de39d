package io.jobstream.redis;

import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.EventQueue;
import io.jobstream.queue.Receipt;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.args.ListDirection;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Consumes AWX's list {@code callback_tasks} (emitters RPUSH one JSON payload per event, reference §1.7) into the
 * durable event stream, one thread per node.
 *
 * <p>Design note. AWX's receivers BLPOP, so a message popped by a worker that then dies is lost. Here a message is
 * moved atomically into this node's own processing list (a batch per round trip, {@link CallbackMover}), decoded with the same {@link EventDecoder}
 * as HTTP ingest, appended to the stream ({@link EventQueue#offerAll}, which is durable), and only then is the
 * processing list cleared. A node that dies in between leaves its processing list behind; any node that sees that
 * list's owner without a heartbeat moves its messages back to the head of {@code callback_tasks}. A message can
 * therefore reach the stream twice (die after the append, before the clear), which the store's idempotence absorbs,
 * but never zero times. While the stream is over its bound this consumer stops popping, so the backlog waits in
 * {@code callback_tasks}, where AWX's tools see it (LLEN). Invalid payloads are counted and logged (as AWX does)
 * and copied to the dead-letter stream, and so are events the write rule refuses ({@code auth.JobAccess}: an
 * AWX-style emitter is a trusted writer that may create jobs at its own ids but never writes into a job a user
 * owns). The rule asks the database, so while it is down the backlog waits in {@code callback_tasks}.
 */
public final class CallbackTasks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CallbackTasks.class);
    /**
     * Most messages (and at most half of {@code queue.capacity}), and most payload bytes, moved per round trip: a
     * batch is decoded, checked and appended as one, so these bound the memory it holds (4 MiB of payloads plus one message, their decoded events about as much).
     */
    static final int MAX_BATCH = 1_000;

    static final int MAX_BATCH_BYTES = 4 << 20;

    private final RedisClient redis;
    private final String node;
    private final CallbackMover mover;
    private final EventDecoder decoder;
    private final EventQueue stream;
    private final Predicate<String> nodeAlive;
    private final Duration recoverEvery;
    private final Counter popped;
    private final Counter recovered;
    private final Counter rejected;
    private final Thread thread;
    private final Function<Collection<Long>, Map<Long, String>> refusals;
    private volatile long length;
    private volatile boolean stopping;

    /** @param refusals the write rule: of these job ids, those the emitter may not write, with the reason */
    public CallbackTasks(
            RedisConnection redis,
            String node,
            EventDecoder decoder,
            EventQueue stream,
            Predicate<String> nodeAlive,
            Duration recoverEvery,
            MeterRegistry registry,
            Function<Collection<Long>, Map<Long, String>> refusals) {
        this.refusals = refusals;
        this.redis = redis.client();
        this.node = node;
        // at most half the stream's bound, so that a batch always fits once the stream drains (a small
        // queue.capacity would otherwise hold a whole batch back forever)
        int most = Math.max(1, Math.min(MAX_BATCH, stream.capacity() / 2));
        this.mover = new CallbackMover(this.redis, RedisKeys.processing(node), most, MAX_BATCH_BYTES);
        this.decoder = decoder;
        this.stream = stream;
        this.nodeAlive = nodeAlive;
        this.recoverEvery = recoverEvery;
        this.popped = registry.counter(Metrics.CALLBACK_POPPED);
        this.recovered = registry.counter(Metrics.CALLBACK_RECOVERED);
        this.rejected = registry.counter(Metrics.EVENTS_REJECTED, "reason", "callback_tasks");
        registry.gauge(Metrics.CALLBACK_LENGTH, this, c -> c.length);
        this.thread = new Thread(this::run, "jobstream-callback-tasks");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void run() {
        long lastRecover = 0;
        boolean failing = false;
        boolean leftOver = true; // at start and after a failure our processing list may hold messages
        while (!stopping) {
            try {
                if (System.nanoTime() - lastRecover > recoverEvery.toNanos()) {
                    lastRecover = System.nanoTime();
                    length = redis.llen(RedisKeys.CALLBACK_TASKS);
                    recoverDeadNodes();
                }
                List<byte[]> batch = leftOver ? mover.leftOver() : List.of();
                leftOver = true; // until this batch is cleared
                if (batch.isEmpty()) {
                    batch = mover.take(1.0);
                    popped.increment(batch.size());
                }
                if (batch.isEmpty()) {
                    leftOver = false;
                    continue;
                }
                if (!append(batch)) {
                    Thread.sleep(200); // stream full or Redis failing: the messages wait in our processing list
                    continue;
                }
                mover.done();
                leftOver = false;
                if (failing) log.info("callback_tasks: working again");
                failing = false;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // Redis, or the write rule's database check: either way the messages wait in our processing list
                if (!failing) log.warn("callback_tasks: failed: {}; retrying", e.toString());
                failing = true;
                sleep(500);
            }
        }
    }

    private boolean append(List<byte[]> payloads) {
        List<Envelope> envelopes = new ArrayList<>(payloads.size());
        List<byte[]> sources = new ArrayList<>(payloads.size());
        for (byte[] payload : payloads) {
            List<Decoded> decoded = decoder.decodeBody(payload);
            if (decoded.isEmpty()) deadLetter(payload, "empty", "no event in the payload"); // "", "[]": not silent
            for (Decoded d : decoded) {
                if (d instanceof Decoded.Ok ok) {
                    envelopes.add(new Envelope(ok.message(), Receipt.NONE));
                    sources.add(payload);
                } else if (d instanceof Decoded.Rejected r) {
                    deadLetter(payload, r.tag(), r.reason());
                }
            }
        }
        return stream.offerAll(allowed(envelopes, sources));
    }

    /** The envelopes the write rule lets through; the others are dead-lettered with the rule's reason. */
    private List<Envelope> allowed(List<Envelope> envelopes, List<byte[]> sources) {
        if (envelopes.isEmpty()) return envelopes;
        Set<Long> jobs = new TreeSet<>();
        for (Envelope e : envelopes) jobs.add(e.message().jobId());
        Map<Long, String> refused = refusals.apply(jobs);
        if (refused.isEmpty()) return envelopes;
        List<Envelope> kept = new ArrayList<>(envelopes.size());
        for (int i = 0; i < envelopes.size(); i++) {
            String reason = refused.get(envelopes.get(i).message().jobId());
            if (reason == null) kept.add(envelopes.get(i));
            else deadLetter(sources.get(i), "forbidden", reason);
        }
        return kept;
    }

    private void deadLetter(byte[] payload, String tag, String reason) {
        rejected.increment();
        log.warn("callback_tasks: rejected a payload ({}); it is in {}", tag, RedisKeys.DEAD);
        redis.xadd(
                RedisKeys.DEAD,
                XAddParams.xAddParams(),
                Map.of("callback_task", new String(payload, StandardCharsets.UTF_8), "reason", reason));
    }

    /** Puts the messages that dead nodes had taken back at the head of {@code callback_tasks}. */
    private void recoverDeadNodes() {
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
            ScanResult<String> page = redis.scan(
                    cursor,
                    new ScanParams().match(RedisKeys.PROCESSING_PREFIX + "*").count(100));
            for (String key : page.getResult()) {
                String owner = key.substring(RedisKeys.PROCESSING_PREFIX.length());
                if (owner.equals(node) || nodeAlive.test(owner)) continue;
                int n = 0;
                // RIGHT to LEFT keeps their order at the head of the list; LMOVE is atomic, so two rescuers are safe.
                while (redis.lmove(key, RedisKeys.CALLBACK_TASKS, ListDirection.RIGHT, ListDirection.LEFT) != null) n++;
                if (n > 0) {
                    recovered.increment(n);
                    log.warn("callback_tasks: put back {} messages taken by node {} (no heartbeat)", n, owner);
                }
            }
            cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }

    /** Messages waiting in {@code callback_tasks} when last looked at. */
    public long length() {
        return length;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stopping = true;
        try {
            thread.join(3_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
