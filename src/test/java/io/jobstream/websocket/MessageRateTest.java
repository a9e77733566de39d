package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MessageRateTest {
    private final AtomicLong now = new AtomicLong();

    @Test
    void at_most_the_rate_per_one_second_window() {
        MessageRate rate = new MessageRate(3, now::get);
        assertThat(rate.admit()).isTrue();
        assertThat(rate.admit()).isTrue();
        assertThat(rate.admit()).isTrue();
        assertThat(rate.admit()).isFalse();
        now.addAndGet(1_000_000_000L);
        assertThat(rate.admit()).isTrue();
    }

    @Test
    void subscribes_weigh_the_jobs_they_name_so_one_message_of_100_jobs_counts_as_100() {
        MessageRate rate = new MessageRate(500, now::get);
        for (int i = 0; i < 5; i++)
            assertThat(rate.admit(100)).as("message " + i).isTrue();
        assertThat(rate.admit(100)).isFalse();
        assertThat(rate.admit(1)).isFalse(); // the window is spent, whatever the weight
        now.addAndGet(1_000_000_000L);
        assertThat(rate.admit(100)).isTrue();
    }

    @Test
    void a_message_heavier_than_the_whole_rate_passes_alone_in_its_window_rather_never() {
        MessageRate rate = new MessageRate(50, now::get);
        assertThat(rate.admit(100)).isTrue();
        assertThat(rate.admit(1)).isFalse();
        now.addAndGet(1_000_000_000L);
        assertThat(rate.admit(100)).isTrue();
    }

    @Test
    void zero_means_no_limit() {
        MessageRate rate = new MessageRate(0, now::get);
        for (int i = 0; i < 10_000; i++) assertThat(rate.admit(100)).isTrue();
    }
}
