package io.jobstream.diagnosis;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.Hops;
import io.jobstream.metrics.Metrics;
import io.jobstream.testing.ManualClock;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The gathering side on one thread with a manual clock: windows difference the meters, connections are followed. */
class ReadingsSamplerTest {
    private final PrometheusMeterRegistry registry = Metrics.newRegistry();
    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<ReadingsSampler.Connection> connections = new ArrayList<>();
    private final ReadingsSampler sampler = new ReadingsSampler(
            registry,
            clock,
            new ReadingsSampler.Sources(
                    () -> CheckResult.OK, () -> List.copyOf(connections), id -> Optional.of("alice"), false));

    private void record(String hop, long millis, int times) {
        for (int i = 0; i < times; i++) Hops.on(registry).hop(hop).record(millis * 1000L);
    }

    private void step(int times) {
        for (int i = 0; i < times; i++) {
            clock.advance(ReadingsSampler.STEP);
            sampler.sample();
        }
    }

    @Test
    void a_window_counts_what_happened_in_it_not_since_the_start() {
        sampler.sample();
        record(Metrics.HOP_RECEIVED_COMMITTED, 5_000, 500); // an old slow spell
        step(30); // a minute later
        record(Metrics.HOP_RECEIVED_COMMITTED, 3, 100);
        step(1);

        Readings r = sampler.readings(Duration.ofSeconds(10));

        assertThat(r.hop(Metrics.HOP_RECEIVED_COMMITTED).events()).isEqualTo(100);
        assertThat(r.hop(Metrics.HOP_RECEIVED_COMMITTED).p50Millis()).isEqualTo(5);
        assertThat(r.samples()).isEqualTo(5);
        assertThat(r.coveredSeconds()).isEqualTo(10);
        assertThat(Rules.diagnose(r).healthy()).isTrue();
        // the minute before holds the slow spell
        assertThat(Rules.diagnose(sampler.readings(Duration.ofMinutes(2))).healthy())
                .isFalse();
    }

    @Test
    void slow_batches_are_counted_from_the_duration_histogram() {
        sampler.sample();
        var batches = Metrics.duration(registry, Metrics.PERSIST_BATCH_DURATION, "batches");
        batches.record(Duration.ofMillis(20));
        batches.record(Duration.ofMillis(1500));
        batches.record(Duration.ofMillis(3000));
        step(5);

        Readings.Batches b = sampler.readings(Duration.ofSeconds(10)).batches();

        assertThat(b.count()).isEqualTo(3);
        assertThat(b.slow()).isEqualTo(2);
        assertThat(b.busyFraction()).isCloseTo(0.452, org.assertj.core.data.Offset.offset(0.001));
    }

    @Test
    void a_connection_behind_in_every_sample_is_followed_with_how_long() {
        sampler.sample();
        connections.add(new ReadingsSampler.Connection(3, "/127.0.0.1:5100", List.of(7L), 500, false));
        connections.add(new ReadingsSampler.Connection(4, "/127.0.0.1:5101", List.of(7L), 0, false));
        step(5);

        List<Readings.Subscriber> subs =
                sampler.readings(Duration.ofSeconds(10)).subscribers();

        assertThat(subs).hasSize(2);
        Readings.Subscriber slow = subs.get(0);
        assertThat(slow.behindFraction()).isEqualTo(1.0);
        assertThat(slow.behindSeconds()).isEqualTo(8);
        assertThat(slow.queuedNow()).isEqualTo(500);
        assertThat(subs.get(1).behindFraction()).isZero();
    }

    @Test
    void with_no_sample_yet_the_readings_are_empty_and_healthy() {
        assertThat(Rules.diagnose(sampler.readings(Duration.ofSeconds(60))).healthy())
                .isTrue();
    }
}
