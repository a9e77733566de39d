package io.jobstream.limit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * At most {@code max} at once per key (a user's requests in progress, a user's downloads): {@link #tryAcquire} takes
 * a place or refuses at once (never waits), {@link #release} gives it back. A key has an entry only while it holds a
 * place, so memory is bounded by what is in progress (itself bounded by the server's threads and connections), not by
 * the keys ever seen: nothing needs evicting. Refusals are counted through {@code refused}, the caller's metric.
 * Thread-safe, lock-free per key ({@link ConcurrentHashMap#compute}).
 */
public final class Concurrency {
    private final int max;
    private final LongConsumer refused;
    private final Map<String, Integer> held = new ConcurrentHashMap<>();

    /**
     * @param max     places per key, 0 = no limit (nothing is counted then)
     * @param refused told 1 for each refusal
     */
    public Concurrency(int max, LongConsumer refused) {
        if (max < 0) throw new IllegalArgumentException("max must be >= 0, was " + max);
        this.max = max;
        this.refused = refused;
    }

    /** Takes a place for {@code key}: false (counted) when it already holds {@code max}. Release each true. */
    public boolean tryAcquire(String key) {
        if (max == 0) return true;
        boolean[] taken = {false};
        held.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= max) return n;
            taken[0] = true;
            return now + 1;
        });
        if (!taken[0]) refused.accept(1);
        return taken[0];
    }

    /** Gives back a place {@link #tryAcquire} gave. */
    public void release(String key) {
        if (max == 0) return;
        held.computeIfPresent(key, (k, n) -> n > 1 ? n - 1 : null);
    }

    public int max() {
        return max;
    }

    /** Keys holding a place now. */
    public int holders() {
        return held.size();
    }
}
