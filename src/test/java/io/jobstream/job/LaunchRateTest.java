package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LaunchRateTest {
    @Test
    void a_user_launches_at_most_the_rate_in_any_minute_and_others_are_not_affected() {
        LaunchRate rate = new LaunchRate(3);
        assertThat(rate.admit(1, 0)).isZero();
        assertThat(rate.admit(1, 10_000)).isZero();
        assertThat(rate.admit(1, 20_000)).isZero();
        assertThat(rate.admit(1, 30_000)).isEqualTo(30); // the first leaves the window at 60 s
        assertThat(rate.admit(2, 30_000)).isZero();
        assertThat(rate.admit(1, 59_999)).isEqualTo(1);
        assertThat(rate.admit(1, 60_000)).isZero();
        assertThat(rate.admit(1, 60_001)).isEqualTo(10);
    }

    @Test
    void zero_means_no_limit() {
        LaunchRate rate = new LaunchRate(0);
        for (int i = 0; i < 1000; i++) assertThat(rate.admit(1, 0)).isZero();
    }
}
