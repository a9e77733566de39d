package io.jobstream.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The node's hop histograms ({@link Metrics#HOP}, one {@link HopHistogram} per name of {@link Metrics#HOPS}), one set
 * per meter registry, exposed in a Prometheus registry's scrape as {@code event_hop_seconds{hop}}: buckets, count and
 * sum, as the Micrometer Timers they replace printed them (without Micrometer's decaying {@code _max}).
 *
 * <p>Why a set per registry, found from the registry: that is how every other meter is shared (registering a name
 * twice returns the first), so the broadcaster and the websocket stage record into the same histograms and the doctor
 * and {@link RecentHops} read them without one more constructor argument through every stage and test.
 */
public final class Hops {
    static final String PROMETHEUS_NAME = "event_hop_seconds";
    private static final String HELP = "Time an event spent on one hop (created = emitter)";
    private static final Map<MeterRegistry, Hops> BY_REGISTRY = Collections.synchronizedMap(new WeakHashMap<>());

    private final Map<String, HopHistogram> byHop = new LinkedHashMap<>();

    private Hops() {
        for (String hop : Metrics.HOPS) byHop.put(hop, new HopHistogram());
    }

    /** The registry's hop histograms, made (and, for a Prometheus registry, exposed) by the first call. */
    public static Hops on(MeterRegistry registry) {
        return BY_REGISTRY.computeIfAbsent(registry, r -> {
            Hops hops = new Hops();
            if (r instanceof PrometheusMeterRegistry p)
                p.getPrometheusRegistry().register(hops.collector());
            return hops;
        });
    }

    /** One hop's histogram, e.g. {@link Metrics#HOP_PUBLISHED_WRITTEN}. */
    public HopHistogram hop(String hop) {
        HopHistogram h = byHop.get(hop);
        if (h == null) throw new IllegalArgumentException("no such hop: " + hop);
        return h;
    }

    /** Every hop's counts, in an event's order (end to end last). */
    public Map<String, HopHistogram.Snapshot> snapshot() {
        Map<String, HopHistogram.Snapshot> out = new LinkedHashMap<>();
        byHop.forEach((hop, h) -> out.put(hop, h.snapshot()));
        return out;
    }

    private Collector collector() {
        return new Collector() {
            @Override
            public MetricSnapshot collect() {
                return prometheus(snapshot());
            }

            @Override
            public String getPrometheusName() {
                return PROMETHEUS_NAME;
            }

            @Override
            public MetricType getMetricType() {
                return MetricType.HISTOGRAM;
            }
        };
    }

    static HistogramSnapshot prometheus(Map<String, HopHistogram.Snapshot> hops) {
        long[] boundsMicros = HopHistogram.BOUNDS_MICROS;
        double[] upper = new double[boundsMicros.length + 1];
        for (int i = 0; i < boundsMicros.length; i++) upper[i] = boundsMicros[i] / 1e6;
        upper[boundsMicros.length] = Double.POSITIVE_INFINITY;
        HistogramSnapshot.Builder out =
                HistogramSnapshot.builder().name(PROMETHEUS_NAME).help(HELP);
        hops.forEach((hop, s) -> out.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .labels(Labels.of("hop", hop))
                .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, s.buckets()))
                .sum(s.sumMicros() / 1e6)
                .build()));
        return out.build();
    }
}
