package io.jobstream.auth;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Token buckets by key (a source address, a username, or one key for the whole node): {@code perMinute} tokens a
 * minute, up to {@code burst} at once. {@link #take} takes one token when there is one and otherwise says how long
 * until there is; {@link #give} returns one (an attempt that turned out fine).
 *
 * <p>Bounded: above {@code maxKeys} buckets, the full ones (keys quiet for a while) are dropped, since a new bucket
 * starts full anyway; if that frees nothing, every bucket is dropped. That forgives a flood of distinct keys, which is
 * why what this guards (password hashing) is also bounded on its own ({@link HashingGate}). Thread-safe (one lock:
 * callers take at most a few tokens per request, far below the cost of what they guard).
 */
final class Buckets {
    private final double burst;
    private final double perNano;
    private final int maxKeys;
    private final LongSupplier nanoTime;
    private final Map<String, Bucket> buckets = new HashMap<>();

    private static final class Bucket {
        double tokens;
        long at;
    }

    Buckets(int perMinute, int burst, int maxKeys, LongSupplier nanoTime) {
        if (perMinute <= 0 || burst <= 0) throw new IllegalArgumentException("perMinute and burst must be positive");
        this.burst = burst;
        this.perNano = perMinute / 60e9;
        this.maxKeys = maxKeys;
        this.nanoTime = nanoTime;
    }

    /** Takes a token: 0 when taken, else the whole seconds (at least 1) until one is there. */
    synchronized long take(String key) {
        Bucket b = bucket(key);
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - b.tokens) / perNano / 1e9));
    }

    /** Seconds until {@link #take} would succeed, without taking: 0 when it would now. */
    synchronized long wait(String key) {
        Bucket b = bucket(key);
        return b.tokens >= 1 ? 0 : Math.max(1, (long) Math.ceil((1 - b.tokens) / perNano / 1e9));
    }

    synchronized void give(String key) {
        Bucket b = buckets.get(key);
        if (b != null) b.tokens = Math.min(burst, b.tokens + 1);
    }

    synchronized int size() {
        return buckets.size();
    }

    private Bucket bucket(String key) {
        long now = nanoTime.getAsLong();
        Bucket b = buckets.get(key);
        if (b == null) {
            if (buckets.size() >= maxKeys) prune(now);
            b = new Bucket();
            b.tokens = burst;
            buckets.put(key, b);
        } else {
            b.tokens = Math.min(burst, b.tokens + (now - b.at) * perNano);
        }
        b.at = now;
        return b;
    }

    private void prune(long now) {
        for (Iterator<Bucket> it = buckets.values().iterator(); it.hasNext(); ) {
            Bucket b = it.next();
            if (b.tokens + (now - b.at) * perNano >= burst) it.remove();
        }
        if (buckets.size() >= maxKeys) buckets.clear();
    }
}
