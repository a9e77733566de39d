package io.jobstream.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {
    private final AtomicLong refused = new AtomicLong();

    @Test
    void a_key_holds_at_most_max_places_and_a_released_place_is_taken_again() {
        Concurrency c = new Concurrency(2, refused::addAndGet);
        assertThat(c.tryAcquire("alice")).isTrue();
        assertThat(c.tryAcquire("alice")).isTrue();
        assertThat(c.tryAcquire("alice")).isFalse();
        assertThat(c.tryAcquire("bob")).as("another key").isTrue();
        assertThat(refused.get()).isEqualTo(1);
        c.release("alice");
        assertThat(c.tryAcquire("alice")).isTrue();
    }

    @Test
    void only_keys_holding_a_place_are_remembered() {
        Concurrency c = new Concurrency(1, refused::addAndGet);
        for (int i = 0; i < 1_000; i++) {
            assertThat(c.tryAcquire("k" + i)).isTrue();
            c.release("k" + i);
        }
        c.release("never held");
        assertThat(c.holders()).isZero();
    }

    @Test
    void zero_means_no_limit() {
        Concurrency c = new Concurrency(0, refused::addAndGet);
        for (int i = 0; i < 1_000; i++) assertThat(c.tryAcquire("alice")).isTrue();
        assertThat(refused.get()).isZero();
        assertThat(c.holders()).isZero();
    }
}
