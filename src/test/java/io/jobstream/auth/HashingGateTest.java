package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The hashing gate: at most {@code slots} hashes at once; a check that finds no free slot within the wait gets null; a
 * failing hash fails its caller and frees its slot.
 */
class HashingGateTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void a_hash_is_counted_and_answers() {
        HashingGate gate = new HashingGate(1, Duration.ofSeconds(1), registry);
        assertThat(gate.run(() -> true)).isTrue();
        assertThat(gate.run(() -> false)).isFalse();
        assertThat(registry.get("auth.password.hashes").counter().count()).isEqualTo(2);
    }

    @Test
    void a_check_that_finds_every_slot_taken_past_the_wait_gets_no_answer() throws Exception {
        HashingGate gate = new HashingGate(1, Duration.ofMillis(200), registry);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> gate.run(() -> {
            inside.countDown();
            try {
                return release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return false;
            }
        }));
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(gate.run(() -> true)).as("no slot within 200 ms").isNull();
        release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(gate.run(() -> false)).as("the slot is free again").isFalse();
    }

    @Test
    void a_failing_hash_fails_its_caller_and_frees_the_slot() {
        HashingGate gate = new HashingGate(1, Duration.ofMillis(200), registry);
        assertThatThrownBy(() -> gate.run(() -> {
                    throw new IllegalArgumentException("bad stored hash (test)");
                }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad stored hash");
        assertThat(gate.run(() -> true)).isTrue();
    }
}
