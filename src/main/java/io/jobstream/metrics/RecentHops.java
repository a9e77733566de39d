package io.jobstream.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * "Lag right now", per hop: what the hop histograms ({@link Hops}) counted over about the last
 * {@link #WINDOW}. The histograms in {@code /metrics} count since the node started, which hides a lag that began a
 * minute ago; Prometheus computes rates from two scrapes, and this does the same from snapshots of the same histograms
 * taken every {@link #STEP}, so {@code ./jobstream stats} and a dashboard agree. Percentiles are bucket bounds (the
 * buckets resolve 1 ms to 60 s), read as "at most". Thread-safe.
 */
public final class RecentHops implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(5);
    static final Duration WINDOW = Duration.ofSeconds(60);

    /** One hop over the window; times in milliseconds. */
    public record Hop(long events, double perSecond, double meanMillis, double p50Millis, double p99Millis) {}

    /** A timer's cumulative figures at one moment. */
    private record Sample(long count, double totalMillis, double[] bounds, double[] cumulative) {}

    private final Hops hops;
    private final Clock clock;
    private final ArrayDeque<Map.Entry<Long, Map<String, Sample>>> samples = new ArrayDeque<>(); // guarded by this
    private ScheduledExecutorService timer;

    public RecentHops(MeterRegistry registry, Clock clock) {
        this.hops = Hops.on(registry);
        this.clock = clock;
    }

    public RecentHops start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "recent-hops");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::sample, 0, STEP.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Takes a snapshot of every hop; called every {@link #STEP} (and by tests). */
    synchronized void sample() {
        long now = clock.millis();
        samples.addLast(Map.entry(now, snapshot()));
        // keep the newest sample that is at least WINDOW old, as the window's start
        while (samples.size() > 2) {
            Iterator<Map.Entry<Long, Map<String, Sample>>> it = samples.iterator();
            it.next();
            if (now - it.next().getKey() < WINDOW.toMillis()) break;
            samples.removeFirst();
        }
    }

    /** Per hop (in the order of {@link Metrics}' hop names), from the oldest kept snapshot to now. */
    public synchronized Map<String, Hop> recent() {
        Map<String, Hop> out = new LinkedHashMap<>();
        if (samples.isEmpty()) return out;
        long from = samples.peekFirst().getKey();
        Map<String, Sample> then = samples.peekFirst().getValue();
        double seconds = Math.max(1, clock.millis() - from) / 1000.0;
        for (Map.Entry<String, Sample> e : snapshot().entrySet()) {
            Sample now = e.getValue();
            Sample before = then.get(e.getKey());
            long events = now.count() - (before == null ? 0 : before.count());
            if (events <= 0) {
                out.put(e.getKey(), new Hop(0, 0, 0, 0, 0));
                continue;
            }
            double total = now.totalMillis() - (before == null ? 0 : before.totalMillis());
            out.put(
                    e.getKey(),
                    new Hop(
                            events,
                            events / seconds,
                            total / events,
                            percentile(now, before, events, 0.50),
                            percentile(now, before, events, 0.99)));
        }
        return out;
    }

    /** The upper bound of the first bucket whose share of the window's events reaches {@code q}. */
    private static double percentile(Sample now, Sample before, long events, double q) {
        for (int i = 0; i < now.bounds().length; i++) {
            double counted = now.cumulative()[i] - (before == null ? 0 : before.cumulative()[i]);
            if (counted >= q * events) return now.bounds()[i];
        }
        return Double.POSITIVE_INFINITY; // over the largest bucket (60 s)
    }

    private Map<String, Sample> snapshot() {
        Map<String, Sample> byHop = new LinkedHashMap<>();
        double[] bounds = HopHistogram.Snapshot.boundsMillis();
        hops.snapshot()
                .forEach((hop, s) -> byHop.put(hop, new Sample(s.count(), s.totalMillis(), bounds, s.cumulative())));
        return byHop;
    }

    @Override
    public void close() {
        if (timer != null) timer.shutdownNow();
    }
}
