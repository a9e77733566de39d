package io.jobstream.limit;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * At most so much per period, per key (an emitter, an address, a username, a user, a connection). Two shapes:
 * <ul>
 *   <li>{@link #bucket}: a token bucket, {@code amount} per {@code period} refilled continuously, up to {@code burst}
 *       at once. Steady work at the rate always passes; a burst is absorbed and then paced.
 *   <li>{@link #window}: a sliding window, at most {@code max} in any {@code period} (each use is remembered until it
 *       is a period old). Exact where the limit is a promise ("60 launches in any minute").
 * </ul>
 * A take is admitted whole or not at all, so a refused request can be retried as it is, and a refused take costs the
 * key nothing. A take heavier than the whole allowance passes when the allowance is untouched (a full bucket, an
 * empty window) and leaves the key in debt: big requests are slowed down, never refused for ever.
 *
 * <p>Memory is bounded: at most {@code maxKeys} keys are remembered. One more evicts the key used least recently,
 * and an evicted key starts again with a full allowance, so eviction only ever forgives; a key that is being held
 * back is in use and stays. Keys a hostile client invents (addresses, usernames) therefore cost at most
 * {@code maxKeys} entries, and forgiving a flood of them is why what such limits guard is bounded on its own too.
 *
 * <p>Every refusal is counted in one place: the {@code refused} consumer, given the weight refused, feeds the
 * caller's metric. Time comes from the injected {@code nanoTime} ticker, so tests run on fake time.
 * Thread-safe: one lock, held for a few arithmetic operations per take.
 */
public final class Rate {
    private static final long SECOND = 1_000_000_000L;

    private final boolean sliding;
    private final double amount;
    private final long periodNanos;
    private final double burst;
    private final LongSupplier nanoTime;
    private final LongConsumer refused;
    private final Map<String, Object> keys; // Allowance (bucket) or Uses (window), least recently used first

    private Rate(
            boolean sliding,
            double amount,
            Duration period,
            double burst,
            int maxKeys,
            LongSupplier nanoTime,
            LongConsumer refused) {
        if (amount <= 0 || burst <= 0 || period.isZero() || period.isNegative() || maxKeys < 1) {
            throw new IllegalArgumentException("amount, burst, period and maxKeys must be positive");
        }
        this.sliding = sliding;
        this.amount = amount;
        this.periodNanos = period.toNanos();
        this.burst = burst;
        this.nanoTime = nanoTime;
        this.refused = refused;
        this.keys = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Object> eldest) {
                return size() > maxKeys;
            }
        };
    }

    /**
     * A token bucket per key.
     *
     * @param amount  tokens refilled per {@code period}
     * @param burst   tokens a key may take at once (the bucket's size; a new key starts full)
     * @param refused told the weight of each refused take (the caller's metric)
     */
    public static Rate bucket(
            double amount, Duration period, double burst, int maxKeys, LongSupplier nanoTime, LongConsumer refused) {
        return new Rate(false, amount, period, burst, maxKeys, nanoTime, refused);
    }

    /**
     * A sliding window per key: at most {@code max} in any {@code period}.
     *
     * @param refused told the weight of each refused take (the caller's metric)
     */
    public static Rate window(int max, Duration period, int maxKeys, LongSupplier nanoTime, LongConsumer refused) {
        return new Rate(true, max, period, max, maxKeys, nanoTime, refused);
    }

    /** Takes {@code weight} from the key's allowance: 0 when admitted, else the whole seconds (at least 1) to wait. */
    public long take(String key, int weight) {
        long waitNanos;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            waitNanos =
                    sliding ? uses(key).take(now, weight) : allowance(key, now).take(weight);
        }
        if (waitNanos == 0) return 0;
        refused.accept(weight);
        return Math.max(1, (waitNanos + SECOND - 1) / SECOND);
    }

    /**
     * Seconds until a take of {@code weight} would pass, 0 when it would now; takes nothing. A positive answer is
     * counted as a refusal: for callers that refuse on it and {@link #charge} only what turns out to count.
     */
    public long check(String key, int weight) {
        long waitNanos;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            waitNanos = sliding
                    ? uses(key).waitFor(now, weight)
                    : allowance(key, now).waitFor(weight);
        }
        if (waitNanos == 0) return 0;
        refused.accept(weight);
        return Math.max(1, (waitNanos + SECOND - 1) / SECOND);
    }

    /** Takes {@code weight} whatever is left, into debt if need be (what already happened: a failure). */
    public synchronized void charge(String key, int weight) {
        long now = nanoTime.getAsLong();
        if (sliding) {
            uses(key).add(now, weight);
        } else {
            allowance(key, now).tokens -= weight;
        }
    }

    /** Whether {@code weight} may pass now (taken when so). */
    public boolean admit(String key, int weight) {
        return take(key, weight) == 0;
    }

    /** Returns what a take turned out not to need (a password that was right): as if it had not happened. */
    public synchronized void giveBack(String key, int weight) {
        Object state = keys.get(key);
        if (state instanceof Allowance a) a.tokens = Math.min(burst, a.tokens + weight);
        if (state instanceof Uses u) u.giveBack(weight);
    }

    /** Drops the key (its connection or user is gone); it would start with a full allowance anyway. */
    public synchronized void forget(String key) {
        keys.remove(key);
    }

    public synchronized int keys() {
        return keys.size();
    }

    private Allowance allowance(String key, long now) {
        Allowance a = (Allowance) keys.get(key);
        if (a == null) {
            a = new Allowance(burst, now);
            keys.put(key, a);
        }
        a.refill(now);
        return a;
    }

    private Uses uses(String key) {
        Uses u = (Uses) keys.get(key);
        if (u == null) {
            u = new Uses();
            keys.put(key, u);
        }
        return u;
    }

    /** A bucket's tokens as of {@code at}; negative after a take heavier than the burst. */
    private final class Allowance {
        double tokens;
        long at;

        Allowance(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }

        void refill(long now) {
            // a ticker may step back (another core's clock): never refill a negative interval
            if (now > at) tokens = Math.min(burst, tokens + (now - at) * amount / periodNanos);
            at = Math.max(at, now);
        }

        long take(int weight) {
            long wait = waitFor(weight);
            if (wait == 0) tokens -= weight;
            return wait;
        }

        long waitFor(int weight) {
            double need = Math.min(weight, burst);
            if (tokens >= need) return 0;
            return Math.max(1, (long) Math.ceil((need - tokens) * periodNanos / amount));
        }
    }

    /** A window's uses, oldest first: their times and weights, and the weights' sum. */
    private final class Uses {
        final ArrayDeque<long[]> uses = new ArrayDeque<>();
        long sum;

        long take(long now, int weight) {
            long wait = waitFor(now, weight);
            if (wait == 0) add(now, weight);
            return wait;
        }

        void add(long now, int weight) {
            uses.addLast(new long[] {now, weight});
            sum += weight;
        }

        long waitFor(long now, int weight) {
            while (!uses.isEmpty() && uses.peekFirst()[0] <= now - periodNanos) sum -= uses.pollFirst()[1];
            if (uses.isEmpty() || sum + weight <= burst) return 0;
            long left = sum;
            for (long[] use : uses) { // when enough has left the window for this take
                left -= use[1];
                if (left == 0 || left + weight <= burst) return Math.max(1, use[0] + periodNanos - now);
            }
            throw new IllegalStateException("unreachable: the window empties");
        }

        void giveBack(int weight) {
            while (weight > 0 && !uses.isEmpty()) { // the newest uses are the ones given back
                long[] last = uses.peekLast();
                long back = Math.min(weight, last[1]);
                last[1] -= back;
                sum -= back;
                weight -= (int) back;
                if (last[1] == 0) uses.pollLast();
            }
        }
    }
}
