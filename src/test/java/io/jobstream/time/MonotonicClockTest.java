package io.jobstream.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class MonotonicClockTest {
    @Test
    void instants_never_go_backwards_and_millis_agree_with_them() {
        MonotonicClock clock = new MonotonicClock();
        Instant previous = clock.instant();
        for (int i = 0; i < 100_000; i++) {
            Instant now = clock.instant();
            assertThat(now).isAfterOrEqualTo(previous);
            previous = now;
        }
        long millis = clock.millis();
        assertThat(millis).isBetween(previous.toEpochMilli(), clock.instant().toEpochMilli());
    }
}
