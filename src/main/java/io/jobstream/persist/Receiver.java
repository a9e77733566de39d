package io.jobstream.persist;

import io.jobstream.broadcast.Broadcaster;
import io.jobstream.config.Config.PersistConfig;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobMessage;
import io.jobstream.event.StoredEvent;
import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.EventQueue;
import io.jobstream.time.MonotonicClock;
import io.jobstream.time.Sleeper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiver loop: drains the queue in batches, stores each batch, reports each message's fate, broadcasts.
 *
 * <p>Design note. One thread owns the loop. It waits only while the queue is empty and then takes whatever is
 * already there, up to {@code persist.max-batch}: under light load a batch is one request (lowest lag), under heavy
 * load batches grow by themselves (highest throughput), with no flush timer to tune. A failing store is retried
 * with the same batch and a doubling pause (capped), so a database outage delays events but never drops or
 * reorders them; meanwhile the bounded queue fills and intake answers 503. Receipts are completed only after the
 * commit, and broadcast sees only committed events. {@link #close} lets the loop finish what is queued, within a
 * deadline, before stopping.
 *
 * <p>Time comes from the injected {@link Clock} (batch durations) and {@link Sleeper} (the retry pause), so tests
 * drive {@link #drainOnce} on their own thread with fake time.
 */
public final class Receiver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Receiver.class);
    private static final Duration IDLE_WAIT = Duration.ofMillis(200);

    private final EventQueue queue;
    private final EventStore store;
    private final Broadcaster broadcaster;
    private final Consumer<CommittedBatch> committed;
    private final PersistConfig config;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Thread thread;
    private final Counter stored;
    private final Counter duplicates;
    private final Counter parked;
    private final Counter eofsStored;
    private final Counter eofsParked;
    private final Counter failures;
    private final DistributionSummary batchSize;
    private final Timer batchDuration;
    private final Timer lagCommitted;
    private volatile boolean stopping;
    /** Set while the store refuses writes ({@link StoreException#cannotWrite}); read by intake on its threads. */
    private volatile StoreTrouble trouble;

    public Receiver(
            EventQueue queue, EventStore store, Broadcaster broadcaster, PersistConfig config, MeterRegistry registry) {
        this(queue, store, broadcaster, config, registry, new MonotonicClock(), Sleeper.REAL);
    }

    public Receiver(
            EventQueue queue,
            EventStore store,
            Broadcaster broadcaster,
            PersistConfig config,
            MeterRegistry registry,
            Clock clock,
            Sleeper sleeper) {
        this(queue, store, broadcaster, batch -> {}, config, registry, clock, sleeper);
    }

    /**
     * @param committed told of each committed batch after its broadcast, on the receiver's thread: it must hand work
     *     off without blocking (the run models' background build takes job ids this way)
     */
    public Receiver(
            EventQueue queue,
            EventStore store,
            Broadcaster broadcaster,
            Consumer<CommittedBatch> committed,
            PersistConfig config,
            MeterRegistry registry,
            Clock clock,
            Sleeper sleeper) {
        this.committed = committed;
        this.queue = queue;
        this.clock = clock;
        this.sleeper = sleeper;
        this.store = store;
        this.broadcaster = broadcaster;
        this.config = config;
        this.thread = new Thread(this::run, "jobstream-receiver");
        this.stored = registry.counter(Metrics.EVENTS_STORED);
        this.duplicates = registry.counter(Metrics.EVENTS_DUPLICATE);
        this.parked = registry.counter(Metrics.EVENTS_PARKED);
        this.eofsStored = registry.counter(Metrics.EOFS_STORED);
        this.eofsParked = registry.counter(Metrics.EOFS_PARKED);
        this.failures = registry.counter(Metrics.PERSIST_FAILURES);
        this.batchSize = Metrics.sizes(registry, Metrics.PERSIST_BATCH_SIZE, "Messages per receiver transaction");
        this.batchDuration = Metrics.duration(
                registry, Metrics.PERSIST_BATCH_DURATION, "Time to write and commit one batch, including retries");
        this.lagCommitted = Metrics.lag(registry, Metrics.LAG_COMMITTED, "Event created to committed");
    }

    public void start() {
        thread.start();
    }

    public boolean isRunning() {
        return thread.isAlive();
    }

    /** OK while the loop runs; "stopped" once its thread has ended (stopped, or never started). */
    public CheckResult check() {
        return isRunning() ? CheckResult.OK : CheckResult.failed("stopped");
    }

    private void run() {
        List<Envelope> batch = new ArrayList<>(config.maxBatch());
        while (!stopping || queue.depth() > 0) {
            try {
                drainOnce(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.warn(
                        "receiver interrupted with {} messages in hand and {} queued; they were not acknowledged",
                        batch.size(),
                        queue.depth());
                return;
            } catch (RuntimeException e) {
                log.error("receiver failed on a batch of {} messages; continuing", batch.size(), e);
            }
        }
    }

    /**
     * One turn of the loop: waits (while the queue is empty) for a batch, stores it, reports it and broadcasts it.
     * Returns how many messages it handled. The loop thread calls it; tests call it instead of starting the thread.
     */
    int drainOnce(List<Envelope> batch) throws InterruptedException {
        batch.clear();
        if (queue.drainTo(batch, config.maxBatch(), IDLE_WAIT) == 0) return 0;
        process(batch);
        return batch.size();
    }

    private void process(List<Envelope> batch) throws InterruptedException {
        List<JobMessage> messages = new ArrayList<>(batch.size());
        for (Envelope e : batch) messages.add(e.message());
        Instant start = clock.instant();
        WriteResult result = writeWithRetry(messages);
        // a span: in production the clock is a MonotonicClock, so wall-clock steps never show as batch time
        batchDuration.record(Duration.between(start, clock.instant()));
        batchSize.record(batch.size());
        report(batch, result);
        for (StoredEvent e : result.committed().events()) {
            Metrics.recordLag(lagCommitted, e.event().created(), e.modified());
        }
        try {
            broadcaster.publish(result.committed());
        } catch (RuntimeException e) {
            log.error(
                    "broadcast failed for {} committed events (they are stored)",
                    result.committed().events().size(),
                    e);
        }
        try {
            committed.accept(result.committed());
        } catch (RuntimeException e) {
            log.error("the commit listener failed (the batch is stored and broadcast)", e);
        }
    }

    private WriteResult writeWithRetry(List<JobMessage> messages) throws InterruptedException {
        Duration pause = Duration.ofMillis(100);
        for (int attempt = 1; ; attempt++) {
            try {
                WriteResult r = store.write(messages);
                if (attempt > 1)
                    log.info("store is back: batch of {} written after {} attempts", messages.size(), attempt);
                trouble = null;
                return r;
            } catch (RuntimeException e) {
                failures.increment();
                noteTrouble(e);
                if (attempt == 1 || attempt % 10 == 0) {
                    log.warn(
                            "store failed (attempt {}) for a batch of {} messages, job {}: {}; retrying",
                            attempt,
                            messages.size(),
                            messages.get(0).jobId(),
                            e.toString());
                }
                sleeper.sleep(pause);
                pause = min(pause.multipliedBy(2), config.maxRetryBackoff());
            }
        }
    }

    private void noteTrouble(RuntimeException e) {
        if (e instanceof StoreException s && s.cannotWrite()) {
            StoreTrouble now = trouble;
            if (now == null || !now.tag().equals(s.tag())) {
                trouble = new StoreTrouble(s.tag(), s.reason(), Instant.now());
                log.error("{}; ingest answers 503 until a write succeeds (the batch in hand is retried)", s.reason());
            }
        } else {
            trouble = null; // an outage, not a refusal: intake buffers as usual
        }
    }

    /**
     * Why the store refuses writes now (disk full, quota, read-only), or null while writes succeed or the failure is
     * an outage. Cleared by the next successful write, so the node recovers by itself when space returns.
     */
    public StoreTrouble storeTrouble() {
        return trouble;
    }

    /**
     * Completes each message's receipt and counts its fate. An EOF is not an event row: it counts under its own
     * meters, so that {@code events.stored} is the number of rows added to {@code job_event}.
     */
    private void report(List<Envelope> batch, WriteResult result) {
        for (int i = 0; i < batch.size(); i++) {
            var receipt = batch.get(i).receipt();
            boolean eof = batch.get(i).message() instanceof JobEof;
            switch (result.outcomes().get(i)) {
                case STORED -> {
                    (eof ? eofsStored : stored).increment();
                    receipt.stored();
                }
                case DUPLICATE -> {
                    duplicates.increment(); // only events: the store never calls an EOF a duplicate
                    receipt.duplicate();
                }
                case PARKED -> {
                    (eof ? eofsParked : parked).increment();
                    receipt.failed(result.parkReasons().get(i));
                }
            }
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Stops taking new work once the queue is empty, waiting up to {@code deadline}; idempotent. */
    public void close(Duration deadline) {
        stopping = true;
        try {
            thread.join(Math.max(1, deadline.toMillis()));
            if (thread.isAlive()) {
                log.warn("receiver did not drain within {}; {} messages stay unacknowledged", deadline, queue.depth());
                thread.interrupt();
                thread.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }
}
