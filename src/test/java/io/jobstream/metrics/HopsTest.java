package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class HopsTest {
    @Test
    void the_scrape_shows_every_hop_as_a_prometheus_histogram_in_seconds() {
        PrometheusMeterRegistry registry = Metrics.newRegistry();
        Hops.on(registry).hop(Metrics.HOP_CREATED_WRITTEN).record(3_000); // 3 ms
        Hops.on(registry).hop(Metrics.HOP_CREATED_WRITTEN).record(1_000); // exactly a bound: le="0.001"
        Hops.on(registry).hop(Metrics.HOP_CREATED_WRITTEN).record(90_000_000); // over 60 s: +Inf only

        List<String> lines = hopLines(registry.scrape());

        assertThat(lines)
                .contains(
                        "# HELP event_hop_seconds Time an event spent on one hop (created = emitter)",
                        "# TYPE event_hop_seconds histogram",
                        "event_hop_seconds_bucket{hop=\"created_written\",le=\"0.001\"} 1",
                        "event_hop_seconds_bucket{hop=\"created_written\",le=\"0.002\"} 1",
                        "event_hop_seconds_bucket{hop=\"created_written\",le=\"0.005\"} 2",
                        "event_hop_seconds_bucket{hop=\"created_written\",le=\"60.0\"} 2",
                        "event_hop_seconds_bucket{hop=\"created_written\",le=\"+Inf\"} 3",
                        "event_hop_seconds_count{hop=\"created_written\"} 3",
                        "event_hop_seconds_sum{hop=\"created_written\"} 90.004",
                        "event_hop_seconds_count{hop=\"received_committed\"} 0");
        for (String hop : Metrics.HOPS) {
            assertThat(lines.stream().filter(l -> l.startsWith("event_hop_seconds_bucket{hop=\"" + hop + "\"")))
                    .hasSize(17);
        }
    }

    @Test
    void the_buckets_are_the_ones_the_micrometer_timers_had_so_dashboards_and_rules_keep_working() {
        PrometheusMeterRegistry timers = Metrics.newRegistry();
        Timer old = Metrics.lag(timers, "old.hop", "the same buckets as the hop timers had");
        old.record(java.time.Duration.ofMillis(7));

        List<String> les = hopLines(timers.scrape().replace("old_hop_seconds", "event_hop_seconds")).stream()
                .filter(l -> l.startsWith("event_hop_seconds_bucket"))
                .map(l -> l.substring(l.indexOf("le=")))
                .toList();
        PrometheusMeterRegistry hops = Metrics.newRegistry();
        Hops.on(hops).hop(Metrics.HOP_CREATED_RECEIVED).record(7_000);
        List<String> ours = hopLines(hops.scrape()).stream()
                .filter(l -> l.startsWith("event_hop_seconds_bucket{hop=\"created_received\""))
                .map(l -> l.substring(l.indexOf("le=")))
                .toList();

        assertThat(ours).isEqualTo(les);
    }

    @Test
    void one_set_per_registry_and_a_registry_without_prometheus_still_counts() {
        SimpleMeterRegistry simple = new SimpleMeterRegistry();
        assertThat(Hops.on(simple)).isSameAs(Hops.on(simple));
        assertThat(Hops.on(simple)).isNotSameAs(Hops.on(new SimpleMeterRegistry()));
        Hops.on(simple).hop(Metrics.HOP_PUBLISHED_WRITTEN).record(-5); // clock skew: counted as 0
        HopHistogram.Snapshot s = Hops.on(simple).snapshot().get(Metrics.HOP_PUBLISHED_WRITTEN);
        assertThat(s.count()).isEqualTo(1);
        assertThat(s.sumMicros()).isZero();
        assertThat(Hops.on(simple).snapshot().keySet()).containsExactlyElementsOf(Metrics.HOPS);
        assertThatThrownBy(() -> Hops.on(simple).hop("nowhere")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void counts_from_many_threads_that_end_are_all_kept_and_their_cells_folded() throws Exception {
        HopHistogram h = new HopHistogram();
        int threads = 200;
        int each = 1_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                await(start);
                for (int i = 0; i < each; i++) h.record(i); // 0..999 µs: all in the first bucket
            });
            thread.start();
            all.add(thread);
        }
        start.countDown();
        // a reader adding up while the writers write sees counts only grow
        long last = 0;
        for (int i = 0; i < 50; i++) {
            long now = h.snapshot().count();
            assertThat(now).isGreaterThanOrEqualTo(last);
            last = now;
        }
        for (Thread t : all) t.join();

        HopHistogram.Snapshot s = h.snapshot();
        assertThat(s.count()).isEqualTo((long) threads * each);
        assertThat(s.buckets()[0]).isEqualTo((long) threads * each);
        assertThat(s.sumMicros()).isEqualTo((long) threads * (each * (each - 1L) / 2));
        assertThat(h.cellsForTest()).isZero(); // every thread ended: every cell was folded
        h.record(2_500_000);
        assertThat(h.cellsForTest()).isEqualTo(1);
        assertThat(h.snapshot().cumulative()[Arrays.binarySearch(HopHistogram.BOUNDS_MICROS, 5_000_000)])
                .isEqualTo(threads * each + 1.0);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> hopLines(String scrape) {
        return Arrays.stream(scrape.split("\n"))
                .filter(l -> l.contains("event_hop_seconds"))
                .toList();
    }
}
