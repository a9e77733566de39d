package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.ManualClock;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RecentHopsTest {
    private final PrometheusMeterRegistry registry = Metrics.newRegistry();
    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final RecentHops hops = new RecentHops(registry, clock);

    private void record(String hop, long millis, int times) {
        for (int i = 0; i < times; i++) Hops.on(registry).hop(hop).record(millis * 1000L);
    }

    private void advance(Duration d) {
        clock.advance(d);
        hops.sample();
    }

    @Test
    void only_what_the_hops_counted_in_the_last_minute_shows_not_what_came_before() {
        record(Metrics.HOP_CREATED_WRITTEN, 4_000, 1_000); // an old slow spell
        hops.sample();
        for (int i = 0; i < 12; i++) advance(Duration.ofSeconds(5)); // a minute later
        record(Metrics.HOP_CREATED_WRITTEN, 3, 90);
        record(Metrics.HOP_CREATED_WRITTEN, 40, 10);
        clock.advance(Duration.ofSeconds(4));

        RecentHops.Hop recent = hops.recent().get(Metrics.HOP_CREATED_WRITTEN);

        assertThat(recent.events()).isEqualTo(100);
        assertThat(recent.perSecond()).isCloseTo(100 / 64.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(recent.meanMillis())
                .isCloseTo((90 * 3 + 10 * 40) / 100.0, org.assertj.core.data.Offset.offset(0.01));
        assertThat(recent.p50Millis()).isEqualTo(5); // bucket bounds: 3 ms falls in (2, 5]
        assertThat(recent.p99Millis()).isEqualTo(50);
    }

    @Test
    void hops_are_listed_in_the_order_an_event_takes_them_and_idle_ones_read_zero() {
        record(Metrics.HOP_PUBLISHED_WRITTEN, 1, 1);
        record(Metrics.HOP_CREATED_RECEIVED, 1, 1);
        hops.sample();
        advance(Duration.ofSeconds(5));

        assertThat(hops.recent().keySet()).containsExactlyElementsOf(Metrics.HOPS);
        assertThat(hops.recent().get(Metrics.HOP_CREATED_RECEIVED).events()).isZero();
        assertThat(hops.recent().get(Metrics.HOP_RECEIVED_COMMITTED).events()).isZero();
    }
}
