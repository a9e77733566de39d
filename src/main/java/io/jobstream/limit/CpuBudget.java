package io.jobstream.limit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * One key's share of the node's CPU as a whole (a user's requests, whatever their kind): a token bucket of CPU time
 * that fills at {@code cores} CPU-seconds per second up to {@code burst}, and that each piece of work is charged
 * with after it ran ({@link #charge}, measured thread CPU). {@link #admit} lets work in while the key's balance is
 * positive; a key that spent more than its share waits, refused at once, until the bucket has refilled past zero.
 *
 * <p>Why after and not before: what a request will cost is unknown until it ran (a page of 10 jobs or of a 1,000-host
 * timeline), so one request may drive the balance below zero; the next ones then wait for as long as that request
 * overspent. Counts and rates per kind of request (the other limits) cannot bound this, because the abuser chooses
 * which kinds and how expensive; CPU time measured is the one currency every kind of work pays in.
 *
 * <p>Memory: a key has an entry once charged; entries whose bucket is full again are dropped when more than
 * {@link #SWEEP_AT} keys are held, so a flood of distinct keys cannot grow the map without bound (keys here are user
 * ids, themselves bounded by the users an administrator created). Thread-safe; each bucket is locked on its own.
 */
public final class CpuBudget {
    static final int SWEEP_AT = 4096;

    private final double cores;
    private final long burstNanos;
    private final LongSupplier clock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    /**
     * @param cores      CPU-seconds per second a key may spend on average (0.5 = half of one core); 0 = no limit
     * @param burstNanos CPU time a key may spend at once from a full bucket
     * @param clock      monotonic nanoseconds ({@link System#nanoTime} outside tests)
     */
    public CpuBudget(double cores, long burstNanos, LongSupplier clock) {
        if (!(cores >= 0) || Double.isInfinite(cores)) throw new IllegalArgumentException("cores must be >= 0");
        if (burstNanos <= 0) throw new IllegalArgumentException("burst must be > 0");
        this.cores = cores;
        this.burstNanos = burstNanos;
        this.clock = clock;
    }

    public boolean limited() {
        return cores > 0;
    }

    /** True when {@code key} may start work now: its balance is positive (a key never charged always may). */
    public boolean admit(String key) {
        if (!limited()) return true;
        Bucket b = buckets.get(key);
        return b == null || b.balance(clock.getAsLong()) > 0;
    }

    /** Takes {@code cpuNanos} of CPU time that work of {@code key} used from its bucket. */
    public void charge(String key, long cpuNanos) {
        if (!limited() || cpuNanos <= 0) return;
        long now = clock.getAsLong();
        if (buckets.size() > SWEEP_AT) buckets.values().removeIf(b -> b.balance(now) >= burstNanos);
        buckets.computeIfAbsent(key, k -> new Bucket(now)).take(now, cpuNanos);
    }

    /** Whole seconds until {@code key}'s balance is positive again (at least 1), for Retry-After. */
    public long retryAfterSeconds(String key) {
        Bucket b = buckets.get(key);
        long balance = b == null ? 1 : b.balance(clock.getAsLong());
        if (balance > 0) return 1;
        return Math.max(1, (long) Math.ceil((1 - balance) / cores / 1e9));
    }

    /** Keys with a bucket held. */
    int keys() {
        return buckets.size();
    }

    public double cores() {
        return cores;
    }

    private final class Bucket {
        private long balance = burstNanos;
        private long at;

        Bucket(long now) {
            this.at = now;
        }

        synchronized long balance(long now) {
            refill(now);
            return balance;
        }

        synchronized void take(long now, long nanos) {
            refill(now);
            balance -= nanos;
        }

        private void refill(long now) {
            long elapsed = now - at;
            if (elapsed <= 0) return;
            at = now;
            // cores * elapsed, capped; computed in double so that a long idle key cannot overflow
            balance = (long) Math.min(burstNanos, balance + cores * elapsed);
        }
    }
}
