package io.jobstream.limit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CpuBudgetTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000 * MS;
    private final AtomicLong now = new AtomicLong(1_000 * S);

    @Test
    void a_key_within_its_burst_is_admitted_and_one_that_overspent_waits_for_the_refill() {
        CpuBudget budget = new CpuBudget(0.5, 2 * S, now::get);
        assertThat(budget.admit("u")).as("never charged").isTrue();
        budget.charge("u", 1500 * MS);
        assertThat(budget.admit("u")).as("0.5 s left").isTrue();
        budget.charge("u", 1500 * MS); // one costly request overspends: -1 s
        assertThat(budget.admit("u")).isFalse();
        assertThat(budget.retryAfterSeconds("u"))
                .as("1 s of CPU at half a core")
                .isEqualTo(3);
        now.addAndGet(1999 * MS);
        assertThat(budget.admit("u")).as("balance 0 after 2 s: not yet").isFalse();
        now.addAndGet(10 * MS);
        assertThat(budget.admit("u")).isTrue();
        assertThat(budget.admit("other")).as("another key is not touched").isTrue();
    }

    @Test
    void the_bucket_refills_only_up_to_the_burst_however_long_the_key_was_idle() {
        CpuBudget budget = new CpuBudget(0.5, 2 * S, now::get);
        budget.charge("u", 1 * MS);
        now.addAndGet(365L * 24 * 3600 * S); // a year idle: no overflow, no credit beyond the burst
        budget.charge("u", 2 * S);
        assertThat(budget.admit("u")).isFalse();
    }

    @Test
    void a_sustained_load_is_held_to_the_share() {
        CpuBudget budget = new CpuBudget(0.25, 100 * MS, now::get);
        long spent = 0;
        // a client that sends 10 ms requests as fast as it is let in, for 100 s of wall time in 1 ms steps
        for (int ms = 0; ms < 100_000; ms++) {
            if (budget.admit("u")) {
                budget.charge("u", 10 * MS);
                spent += 10 * MS;
            }
            now.addAndGet(MS);
        }
        assertThat(spent / (double) (100 * S)).isBetween(0.24, 0.26);
    }

    @Test
    void no_limit_admits_everything_and_keeps_nothing() {
        CpuBudget budget = new CpuBudget(0, 1, now::get);
        budget.charge("u", 100 * S);
        assertThat(budget.admit("u")).isTrue();
        assertThat(budget.keys()).isZero();
    }

    @Test
    void many_keys_are_swept_once_their_buckets_are_full_again() {
        CpuBudget budget = new CpuBudget(1, 10 * MS, now::get);
        for (int i = 0; i <= CpuBudget.SWEEP_AT; i++) budget.charge("k" + i, MS);
        now.addAndGet(S);
        budget.charge("last", MS);
        assertThat(budget.keys()).isEqualTo(1);
    }

    @Test
    void absurd_settings_are_refused() {
        assertThatThrownBy(() -> new CpuBudget(-1, S, now::get)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CpuBudget(Double.NaN, S, now::get)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CpuBudget(1, 0, now::get)).isInstanceOf(IllegalArgumentException.class);
    }
}
