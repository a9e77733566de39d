package io.jobstream.persist;

import io.jobstream.broadcast.Broadcaster;
import io.jobstream.event.CommittedBatch;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Broadcasts committed batches and tells the commit listener of them, in commit order, on a thread of its own.
 *
 * <p>Why a thread: building each event's message and handing it to every subscriber's feed took three quarters of
 * the receiver thread's CPU at 20,000 events/s × 10 subscribers (docs/BENCHMARKS.md §2e), while the receiver's wall
 * time is mostly spent waiting on PostgreSQL. Here the broadcast of one batch overlaps the write of the next. The
 * hand-off holds at most {@code capacity} batches; when it is full the receiver waits (counted in {@code
 * persist_publish_waits_total}), so a slow broadcast slows the commits, the queue fills and intake answers 503, as
 * before: nothing is dropped. One thread keeps commit order, which subscribers' feeds rely on.
 *
 * <p>{@link #direct} runs each batch on the caller's thread, for tests that drive the receiver step by step.
 */
final class BatchPublisher {
    private static final Logger log = LoggerFactory.getLogger(BatchPublisher.class);
    /** Batches waiting for the broadcast; a batch holds up to {@code persist.max-batch} events. */
    static final int CAPACITY = 8;

    private final Broadcaster broadcaster;
    private final Consumer<CommittedBatch> committed;
    private final BlockingQueue<CommittedBatch> pending;
    private final Thread thread;
    private final Counter waits;
    private volatile boolean stopping;

    private BatchPublisher(
            Broadcaster broadcaster, Consumer<CommittedBatch> committed, boolean threaded, MeterRegistry registry) {
        this.broadcaster = broadcaster;
        this.committed = committed;
        this.pending = threaded ? new ArrayBlockingQueue<>(CAPACITY) : null;
        this.thread = threaded ? new Thread(this::run, "jobstream-publisher") : null;
        this.waits = registry.counter(Metrics.PERSIST_PUBLISH_WAITS);
        if (threaded) registry.gauge(Metrics.PERSIST_PUBLISH_PENDING, pending, BlockingQueue::size);
    }

    /** On a thread of its own (the node). */
    static BatchPublisher threaded(
            Broadcaster broadcaster, Consumer<CommittedBatch> committed, MeterRegistry registry) {
        return new BatchPublisher(broadcaster, committed, true, registry);
    }

    /** On the caller's thread (tests that call {@link Receiver#drainOnce}). */
    static BatchPublisher direct(Broadcaster broadcaster, Consumer<CommittedBatch> committed, MeterRegistry registry) {
        return new BatchPublisher(broadcaster, committed, false, registry);
    }

    void start() {
        if (thread != null) thread.start();
    }

    /** True while its thread runs (always for {@link #direct}). */
    boolean isRunning() {
        return thread == null || thread.isAlive();
    }

    /** Hands over a committed batch; waits while {@link #CAPACITY} batches are already waiting. */
    void hand(CommittedBatch batch) throws InterruptedException {
        if (thread == null) {
            publish(batch);
        } else if (!pending.offer(batch)) {
            waits.increment();
            pending.put(batch);
        }
    }

    private void run() {
        while (!stopping || !pending.isEmpty()) {
            CommittedBatch batch;
            try {
                batch = pending.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                log.warn("publisher interrupted with {} committed batches not broadcast", pending.size());
                return;
            }
            if (batch != null) publish(batch);
        }
    }

    private void publish(CommittedBatch batch) {
        try {
            broadcaster.publish(batch);
        } catch (RuntimeException e) {
            log.error(
                    "broadcast failed for {} committed events (they are stored)",
                    batch.events().size(),
                    e);
        }
        try {
            committed.accept(batch);
        } catch (RuntimeException e) {
            log.error("the commit listener failed (the batch is stored and broadcast)", e);
        }
    }

    /** Broadcasts what was handed over, within {@code deadline}, then stops; call after the receiver stopped. */
    void close(Duration deadline) {
        if (thread == null) return;
        stopping = true;
        try {
            thread.join(Math.max(1, deadline.toMillis()));
            if (thread.isAlive()) {
                log.warn(
                        "publisher did not finish within {}; {} committed batches not broadcast",
                        deadline,
                        pending.size());
                thread.interrupt();
                thread.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
