package io.jobstream.auth;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Bounds the CPU that password checks take: at most {@code slots} PBKDF2 hashes (about 0.2 s of a core each) run at
 * once, whoever asks. A check that finds every slot taken waits up to {@code maxWait} (fairly, first come first
 * served) and is then turned away, so that password guessing from many addresses at once costs the node a fixed
 * share of its cores instead of all of them, and the rest of the node (ingest, websockets) keeps its CPU. Thread-safe;
 * called on Jetty's threads, which it may block for up to {@code maxWait}.
 */
final class HashingGate {
    private final Semaphore slots;
    private final Duration maxWait;
    private final Counter hashes;
    private final Timer waited;

    HashingGate(int slots, Duration maxWait, MeterRegistry registry) {
        this.slots = new Semaphore(slots, true);
        this.maxWait = maxWait;
        this.hashes = Counter.builder(Metrics.AUTH_HASHES)
                .description("password hashes (PBKDF2) run")
                .register(registry);
        this.waited = Timer.builder(Metrics.AUTH_HASH_WAIT)
                .description("waits for a free password hashing slot")
                .register(registry);
    }

    /** The hash's answer, or null when no slot came free within {@code maxWait} (or the thread was interrupted). */
    Boolean run(BooleanSupplier hash) {
        long start = System.nanoTime();
        try {
            if (!slots.tryAcquire(maxWait.toNanos(), TimeUnit.NANOSECONDS)) return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            waited.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
        try {
            hashes.increment();
            return hash.getAsBoolean();
        } finally {
            slots.release();
        }
    }
}
