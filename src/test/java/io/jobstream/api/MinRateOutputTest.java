package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MinRateOutputTest {
    private final AtomicLong nanos = new AtomicLong();
    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();

    private MinRateOutput output(long rate) {
        return new MinRateOutput(sink, rate, Duration.ofSeconds(10), nanos::get);
    }

    @Test
    void a_client_that_keeps_the_rate_is_never_cut_off() throws Exception {
        MinRateOutput out = output(1000);
        for (int s = 0; s < 100; s++) {
            nanos.addAndGet(1_000_000_000L);
            out.write(new byte[1000], 0, 1000);
        }
        assertThat(sink.size()).isEqualTo(100_000);
    }

    @Test
    void a_slow_start_is_forgiven_for_the_grace_then_the_average_counts() throws Exception {
        MinRateOutput out = output(1000);
        nanos.set(9_000_000_000L);
        out.write(new byte[10], 0, 10); // nothing for 9 s: still within the grace
        nanos.set(12_000_000_000L); // 2 s after the grace: 2,000 bytes were due, 10 written
        assertThatThrownBy(() -> out.write(new byte[10], 0, 10))
                .isInstanceOf(MinRateOutput.TooSlow.class)
                .hasMessageContaining("http.min-response-rate");
    }

    @Test
    void zero_means_no_minimum() throws Exception {
        MinRateOutput out = output(0);
        nanos.set(3_600_000_000_000L);
        out.write(1);
        assertThat(sink.size()).isEqualTo(1);
    }
}
