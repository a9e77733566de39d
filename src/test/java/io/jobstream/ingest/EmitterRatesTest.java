package io.jobstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EmitterRatesTest {
    private static final long SECOND = 1_000_000_000L;
    private long now = 5 * SECOND;
    private final EmitterRates rates = new EmitterRates(10, 20, () -> now);

    @Test
    void a_burst_is_admitted_then_the_emitter_waits_as_long_as_its_rate_needs() {
        assertThat(rates.admit("a", 20)).isZero();
        assertThat(rates.admit("a", 5)).as("5 events at 10/s").isEqualTo(1);
        now += SECOND / 2;
        assertThat(rates.admit("a", 5)).isZero();
        assertThat(rates.admit("a", 15)).as("15 events at 10/s, none left").isEqualTo(2);
    }

    @Test
    void a_refused_request_takes_nothing_so_its_retry_after_the_wait_passes() {
        rates.admit("a", 20);
        long wait = rates.admit("a", 10);
        assertThat(wait).isEqualTo(1);
        now += wait * SECOND;
        assertThat(rates.admit("a", 10)).isZero();
    }

    @Test
    void a_request_larger_than_the_burst_passes_when_the_bucket_is_full_and_leaves_it_in_debt() {
        assertThat(rates.admit("a", 100)).as("never refused forever").isZero();
        assertThat(rates.admit("a", 1)).as("80 events of debt plus one, at 10/s").isEqualTo(9);
        now += 9 * SECOND;
        assertThat(rates.admit("a", 1)).isZero();
    }

    @Test
    void emitters_are_limited_each_on_their_own() {
        assertThat(rates.admit("a", 20)).isZero();
        assertThat(rates.admit("b", 20)).isZero();
        assertThat(rates.admit("a", 1)).isPositive();
    }

    @Test
    void quiet_emitters_are_forgotten_when_there_are_many() {
        for (int i = 0; i <= EmitterRates.PRUNE_ABOVE; i++) rates.admit("e" + i, 1);
        now += 10 * SECOND; // all full again
        rates.admit("busy", 20);
        rates.admit("new", 1);
        assertThat(rates.emitters()).isLessThan(10);
        assertThat(rates.admit("busy", 1)).as("a bucket in use is kept: still empty").isPositive();
    }
}
