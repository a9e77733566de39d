package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MetricsTest {
    private final PrometheusMeterRegistry registry = Metrics.newRegistry();
    private final Timer lag = Metrics.lag(registry, Metrics.LAG_RECEIVED, "test");

    @Test
    void a_lag_from_a_created_time_in_the_future_is_recorded_as_zero() {
        Metrics.recordLag(lag, Instant.parse("2999-01-01T00:00:00Z"), Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(lag.count()).isEqualTo(1);
        assertThat(lag.max(TimeUnit.SECONDS)).isZero();
    }

    @Test
    void a_lag_of_eight_thousand_years_is_recorded_saturated_rather_than_overflowing() {
        Metrics.recordLag(lag, Instant.parse("1970-01-01T00:00:00Z"), Instant.parse("9999-12-31T23:59:59.999999Z"));
        assertThat(lag.count()).isEqualTo(1);
        // Micrometer keeps nanoseconds in a long: it saturates at about 292 years
        assertThat(lag.max(TimeUnit.DAYS)).isGreaterThan(100_000.0);
    }

    @Test
    void an_ordinary_lag_keeps_microseconds() {
        Metrics.recordLag(
                lag, Instant.parse("2026-01-01T00:00:00.000100Z"), Instant.parse("2026-01-01T00:00:00.012345Z"));
        assertThat(lag.totalTime(TimeUnit.MICROSECONDS)).isEqualTo(12_245.0);
    }
}
