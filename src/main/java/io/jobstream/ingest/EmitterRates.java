package io.jobstream.ingest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per emitter: {@code rate} events per second, up to {@code burst} at once. A request is admitted
 * whole or not at all, so that a refused request can be retried as it is. A request larger than the burst is
 * admitted once the bucket is full and leaves it in debt, so a big batch is slowed down, never refused forever.
 *
 * <p>Thread-safe: each bucket is locked on its own. Buckets of emitters that went quiet are dropped when there
 * are many, so a stream of one-off addresses cannot grow the map without bound.
 */
final class EmitterRates {
    /** Above this many buckets, full ones (emitters quiet for a while) are dropped; they start full again anyway. */
    static final int PRUNE_ABOVE = 10_000;

    private final double perNano;
    private final double burst;
    private final LongSupplier nanoTime;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    /**
     * @param rate  events per second, more than 0
     * @param burst events at once, more than 0
     */
    EmitterRates(int rate, int burst, LongSupplier nanoTime) {
        if (rate <= 0 || burst <= 0) throw new IllegalArgumentException("rate and burst must be positive");
        this.perNano = rate / 1e9;
        this.burst = burst;
        this.nanoTime = nanoTime;
    }

    /** Takes {@code events} from the emitter's bucket: 0 when admitted, else the whole seconds to wait first. */
    long admit(String emitter, int events) {
        if (buckets.size() > PRUNE_ABOVE) prune();
        Bucket b = buckets.computeIfAbsent(emitter, k -> new Bucket(burst, nanoTime.getAsLong()));
        synchronized (b) {
            refill(b);
            double need = Math.min(events, burst);
            if (b.tokens >= need) {
                b.tokens -= events;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((need - b.tokens) / perNano / 1e9));
        }
    }

    int emitters() {
        return buckets.size();
    }

    private void refill(Bucket b) {
        long now = nanoTime.getAsLong();
        b.tokens = Math.min(burst, b.tokens + (now - b.at) * perNano);
        b.at = now;
    }

    private void prune() {
        buckets.values().removeIf(b -> {
            synchronized (b) {
                refill(b);
                return b.tokens >= burst;
            }
        });
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }
}
