package io.jobstream.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Both shapes of {@link Rate} on fake time: what passes, how long a refusal waits, what is counted and remembered. */
class RateTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(5 * SECOND);
    private final AtomicLong refused = new AtomicLong();

    private Rate bucket(double perSecond, int burst, int maxKeys) {
        return Rate.bucket(perSecond, Duration.ofSeconds(1), burst, maxKeys, now::get, refused::addAndGet);
    }

    private Rate window(int max, Duration period) {
        return Rate.window(max, period, 100, now::get, refused::addAndGet);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void a_burst_is_admitted_then_the_key_waits_as_long_as_its_rate_needs() {
        Rate rate = bucket(10, 20, 100);
        assertThat(rate.take("a", 20)).isZero();
        assertThat(rate.take("a", 5)).as("5 at 10/s").isEqualTo(1);
        advance(Duration.ofMillis(500));
        assertThat(rate.take("a", 5)).isZero();
        assertThat(rate.take("a", 15)).as("15 at 10/s, none left").isEqualTo(2);
    }

    @Test
    void a_refused_take_costs_nothing_so_its_retry_after_the_wait_passes_and_it_is_counted_by_weight() {
        Rate rate = bucket(10, 20, 100);
        rate.take("a", 20);
        long wait = rate.take("a", 10);
        assertThat(wait).isEqualTo(1);
        assertThat(refused.get()).isEqualTo(10);
        advance(Duration.ofSeconds(wait));
        assertThat(rate.take("a", 10)).isZero();
        assertThat(refused.get()).isEqualTo(10);
    }

    @Test
    void a_take_larger_than_the_burst_passes_when_the_bucket_is_full_and_leaves_it_in_debt() {
        Rate rate = bucket(10, 20, 100);
        assertThat(rate.take("a", 100)).as("never refused for ever").isZero();
        assertThat(rate.take("a", 1)).as("80 of debt plus one, at 10/s").isEqualTo(9);
        advance(Duration.ofSeconds(9));
        assertThat(rate.take("a", 1)).isZero();
    }

    @Test
    void keys_are_limited_each_on_their_own() {
        Rate rate = bucket(10, 20, 100);
        assertThat(rate.take("a", 20)).isZero();
        assertThat(rate.take("b", 20)).isZero();
        assertThat(rate.take("a", 1)).isPositive();
    }

    @Test
    void per_minute_buckets_wait_whole_seconds_and_a_given_back_token_undoes_the_take() {
        Rate rate = Rate.bucket(3, Duration.ofMinutes(1), 3, 100, now::get, refused::addAndGet);
        for (int i = 0; i < 3; i++) assertThat(rate.take("10.0.0.1", 1)).isZero();
        assertThat(rate.take("10.0.0.1", 1)).as("3 a minute: one every 20 s").isEqualTo(20);
        rate.giveBack("10.0.0.1", 1);
        assertThat(rate.take("10.0.0.1", 1)).isZero();
        rate.giveBack("10.0.0.1", 5);
        rate.giveBack("never seen", 1);
        for (int i = 0; i < 3; i++)
            assertThat(rate.take("10.0.0.1", 1)).as("never above the burst").isZero();
        assertThat(rate.take("10.0.0.1", 1)).isPositive();
        assertThat(rate.keys()).isEqualTo(1);
    }

    @Test
    void a_ticker_stepping_back_refills_nothing() {
        Rate rate = bucket(10, 10, 100);
        rate.take("a", 10);
        now.addAndGet(-SECOND);
        assertThat(rate.take("a", 1)).isPositive();
        advance(Duration.ofMillis(100)); // still before the last take: nothing refilled
        assertThat(rate.take("a", 1)).isPositive();
        advance(Duration.ofSeconds(1)); // 0.1 s after the last take: one token, not eleven
        assertThat(rate.take("a", 1)).isZero();
        assertThat(rate.take("a", 1)).isPositive();
    }

    @Test
    void memory_stays_bounded_under_a_flood_of_distinct_keys_and_the_key_in_use_is_kept() {
        Rate rate = bucket(1, 1, 100);
        assertThat(rate.take("busy", 1)).isZero();
        for (int i = 0; i < 1_000; i++) {
            rate.take("key" + i, 1);
            if (i % 50 == 0)
                assertThat(rate.take("busy", 1)).as("still held back").isPositive();
        }
        assertThat(rate.keys()).isEqualTo(100);
        assertThat(rate.take("busy", 1)).as("used recently, so never evicted").isPositive();
        assertThat(rate.take("key0", 1)).as("evicted long ago: starts full").isZero();
    }

    @Test
    void a_window_admits_at_most_the_max_in_any_period() {
        Rate rate = window(3, Duration.ofMinutes(1));
        assertThat(rate.take("1", 1)).isZero();
        advance(Duration.ofSeconds(10));
        assertThat(rate.take("1", 1)).isZero();
        advance(Duration.ofSeconds(10));
        assertThat(rate.take("1", 1)).isZero();
        advance(Duration.ofSeconds(10));
        assertThat(rate.take("1", 1)).as("the first leaves the window at 60 s").isEqualTo(30);
        assertThat(rate.take("2", 1)).isZero();
        advance(Duration.ofMillis(29_999));
        assertThat(rate.take("1", 1)).isEqualTo(1);
        advance(Duration.ofMillis(1));
        assertThat(rate.take("1", 1)).isZero();
        advance(Duration.ofMillis(1));
        assertThat(rate.take("1", 1))
                .as("sliding, not reset at 60 s: the one at 10 s leaves at 70 s")
                .isEqualTo(10);
        assertThat(refused.get()).isEqualTo(3);
    }

    @Test
    void a_window_weighs_takes_and_one_heavier_than_the_max_passes_alone() {
        Rate rate = window(500, Duration.ofSeconds(1));
        for (int i = 0; i < 5; i++)
            assertThat(rate.take("u", 100)).as("take " + i).isZero();
        assertThat(rate.take("u", 100)).isEqualTo(1);
        assertThat(rate.take("u", 1)).isEqualTo(1);
        advance(Duration.ofSeconds(1));
        assertThat(rate.take("u", 1000)).as("alone in its window").isZero();
        assertThat(rate.take("u", 1)).isPositive();
        advance(Duration.ofSeconds(1));
        assertThat(rate.take("u", 100)).isZero();
    }

    @Test
    void a_window_gives_back_its_newest_uses() {
        Rate rate = window(2, Duration.ofSeconds(1));
        rate.take("u", 2);
        rate.giveBack("u", 1);
        assertThat(rate.take("u", 1)).isZero();
        assertThat(rate.take("u", 1)).isPositive();
    }

    @Test
    void check_takes_nothing_and_counts_only_a_refusal_and_charge_takes_what_already_happened() {
        Rate rate = Rate.bucket(3, Duration.ofMinutes(1), 3, 100, now::get, refused::addAndGet);
        for (int i = 0; i < 10; i++) assertThat(rate.check("10.0.0.1", 1)).isZero();
        assertThat(refused.get()).isZero();
        for (int i = 0; i < 4; i++) rate.charge("10.0.0.1", 1); // concurrent failures may leave it in debt
        assertThat(rate.check("10.0.0.1", 1))
                .as("two tokens short at one per 20 s")
                .isEqualTo(40);
        assertThat(refused.get()).isEqualTo(1);
        advance(Duration.ofSeconds(40));
        assertThat(rate.check("10.0.0.1", 1)).isZero();
        Rate window = window(1, Duration.ofSeconds(1));
        window.charge("u", 1);
        assertThat(window.check("u", 1)).isEqualTo(1);
    }

    @Test
    void a_forgotten_key_starts_again() {
        Rate rate = window(1, Duration.ofSeconds(1));
        rate.take("c", 1);
        rate.forget("c");
        assertThat(rate.keys()).isZero();
        assertThat(rate.take("c", 1)).isZero();
    }
}
