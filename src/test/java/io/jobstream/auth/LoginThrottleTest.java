package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The password-guessing throttle on fake time: only failures count, per address and per username, and they refill. */
class LoginThrottleTest {
    private final AtomicLong nanos = new AtomicLong(1_000);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final LoginThrottle throttle = new LoginThrottle(3, 5, registry, nanos::get);

    @Test
    void an_address_is_held_after_its_failures_and_gets_a_try_back_as_time_passes() {
        for (int i = 0; i < 3; i++)
            assertThat(throttle.attempt("10.0.0.1", "user" + i)).isZero();
        long wait = throttle.attempt("10.0.0.1", "other");
        assertThat(wait).isEqualTo(20); // 3 a minute: one try every 20 s
        assertThat(throttle.attempt("10.0.0.2", "other")).as("another address").isZero();
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(20));
        assertThat(throttle.attempt("10.0.0.1", "other")).isZero();
        assertThat(registry.counter("auth.throttled", "by", "address").count()).isEqualTo(1);
    }

    @Test
    void successes_do_not_count_and_a_username_is_held_across_addresses_whatever_its_case() {
        for (int i = 0; i < 10; i++) {
            assertThat(throttle.attempt("10.0.1.1", "alice")).isZero();
            throttle.giveBack("10.0.1.1", "alice"); // the password was right
        }
        for (int i = 0; i < 5; i++)
            assertThat(throttle.attempt("10.0.2." + i, i % 2 == 0 ? "bob" : "BOB"))
                    .isZero();
        assertThat(throttle.attempt("10.0.3.1", "Bob")).isPositive();
        assertThat(registry.counter("auth.throttled", "by", "username").count()).isEqualTo(1);
    }

    @Test
    void a_flood_of_distinct_addresses_costs_no_hashing_once_each_is_spent() {
        for (int i = 0; i < 1_000; i++)
            assertThat(throttle.attempt("10.9.0." + i, "victim" + i)).isZero();
        for (int i = 0; i < 1_000; i++) throttle.attempt("10.9.0." + i, "victim" + i);
        for (int i = 0; i < 1_000; i++) throttle.attempt("10.9.0." + i, "victim" + i);
        assertThat(throttle.attempt("10.9.0.7", "victim7"))
                .as("the fourth try of an address")
                .isPositive();
    }
}
