package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RefusalsTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(42 * SECOND);

    @Test
    void one_refusal_more_than_the_limit_in_the_window_closes_and_older_ones_are_forgotten() {
        Refusals refusals = new Refusals(3, Duration.ofSeconds(10), Duration.ofSeconds(30), now::get);
        Refusals.Count count = refusals.count(null);
        assertThat(count.refuse()).isFalse();
        now.addAndGet(4 * SECOND);
        assertThat(count.refuse()).isFalse();
        assertThat(count.refuse()).isFalse();
        now.addAndGet(5 * SECOND);
        assertThat(count.refuse()).as("4th within 10 s").isTrue();
        now.addAndGet(2 * SECOND); // the first is now 11 s old
        assertThat(count.refuse()).isFalse();
        assertThat(count.refuse()).as("3 in the window already").isTrue();
        // another connection counts on its own
        assertThat(refusals.count(null).refuse()).isFalse();
    }

    @Test
    void a_steady_trickle_under_the_limit_never_closes() {
        Refusals refusals = new Refusals(5, Duration.ofSeconds(10), Duration.ofSeconds(30), now::get);
        Refusals.Count count = refusals.count(null);
        for (int i = 0; i < 1000; i++) {
            assertThat(count.refuse()).as("refusal " + i).isFalse();
            now.addAndGet(2 * SECOND);
        }
    }

    @Test
    void a_blocked_user_is_refused_for_the_block_then_admitted_and_others_never() {
        Refusals refusals = new Refusals(3, Duration.ofSeconds(10), Duration.ofSeconds(30), now::get);
        assertThat(refusals.blockedFor(7)).isZero();
        refusals.block(7, refusals.count("Basic abc"));
        assertThat(refusals.blockedFor(7)).isEqualTo(30);
        assertThat(refusals.blockedCredentialFor("Basic abc")).isEqualTo(30);
        assertThat(refusals.blockedCredentialFor("Basic other")).isZero();
        assertThat(refusals.blockedCredentialFor(null)).isZero();
        assertThat(refusals.blockedFor(8)).isZero();
        now.addAndGet(29 * SECOND + 1);
        assertThat(refusals.blockedFor(7)).isEqualTo(1);
        now.addAndGet(SECOND);
        assertThat(refusals.blockedFor(7)).isZero();
        assertThat(refusals.blockedCredentialFor("Basic abc")).isZero();
    }

    @Test
    void zero_limit_never_closes_and_zero_block_never_blocks() {
        Refusals refusals = new Refusals(0, Duration.ofSeconds(10), Duration.ZERO, now::get);
        Refusals.Count count = refusals.count(null);
        for (int i = 0; i < 100; i++) assertThat(count.refuse()).isFalse();
        refusals.block(7, count);
        assertThat(refusals.blockedFor(7)).isZero();
    }
}
