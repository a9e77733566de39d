package io.jobstream.auth;

import io.jobstream.limit.BackgroundThreads;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Bounds the CPU that password checks take: at most {@code slots} PBKDF2 hashes (about 0.2 s of a core each) run at
 * once, whoever asks. A check that finds every slot taken waits up to {@code maxWait} (fairly, first come first
 * served) and is then turned away, so that password guessing from many addresses at once costs the node a fixed
 * share of its cores instead of all of them, and the rest of the node (ingest, websockets) keeps its CPU. The hashes
 * themselves run on threads of their own below the node's priority ({@link BackgroundThreads}): when the cores are
 * busy, the hashes a burst of guesses is allowed (the login limits admit a few before they refuse) wait for the
 * critical path instead of taking a core from it. Thread-safe; called on Jetty's threads, which it blocks for up to
 * {@code maxWait} plus the hash.
 */
final class HashingGate {
    private final Semaphore slots;
    private final Duration maxWait;
    private final Counter hashes;
    private final Timer waited;
    /** One thread per slot, made when needed and ended after a minute idle. */
    private final ThreadPoolExecutor hashers;

    HashingGate(int slots, Duration maxWait, MeterRegistry registry) {
        this.slots = new Semaphore(slots, true);
        this.hashers = new ThreadPoolExecutor(
                slots,
                slots,
                60,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                BackgroundThreads.factory("auth-hash", true));
        hashers.allowCoreThreadTimeOut(true);
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
            return answer(hashers.submit(hash::getAsBoolean));
        } finally {
            slots.release();
        }
    }

    /** The hash's answer; an interrupt is kept for later, so that the slot stays taken while the hash runs. */
    private static Boolean answer(Future<Boolean> hashing) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return hashing.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    if (e.getCause() instanceof Error err) throw err;
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
