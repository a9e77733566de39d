package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BasicCacheTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final BasicCache cache = new BasicCache(Duration.ofMinutes(5), clock);

    @Test
    void a_verified_credential_is_remembered_until_the_period_ends() {
        cache.put("alice", "pw", "hash1");
        assertThat(cache.contains("alice", "pw", "hash1")).isTrue();
        clock.advance(Duration.ofMinutes(5).minusMillis(1));
        assertThat(cache.contains("alice", "pw", "hash1")).isTrue();
        clock.advance(Duration.ofMillis(1));
        assertThat(cache.contains("alice", "pw", "hash1")).isFalse();
        assertThat(cache.size()).as("the expired entry is dropped").isZero();
    }

    @Test
    void another_password_user_or_stored_hash_is_not_taken_for_a_remembered_one() {
        cache.put("alice", "pw", "hash1");
        assertThat(cache.contains("alice", "pw2", "hash1")).isFalse();
        assertThat(cache.contains("bob", "pw", "hash1")).isFalse();
        assertThat(cache.contains("alice", "pw", "hash2"))
                .as("a changed password (new stored hash) misses")
                .isFalse();
        // the parts cannot run into each other: ("ab", "c") is not ("a", "bc")
        cache.put("ab", "c", "h");
        assertThat(cache.contains("a", "bc", "h")).isFalse();
    }

    @Test
    void clearing_forgets_everything() {
        cache.put("alice", "pw", "hash1");
        cache.clear();
        assertThat(cache.contains("alice", "pw", "hash1")).isFalse();
    }

    @Test
    void a_zero_period_remembers_nothing() {
        BasicCache off = new BasicCache(Duration.ZERO, clock);
        off.put("alice", "pw", "hash1");
        assertThat(off.contains("alice", "pw", "hash1")).isFalse();
    }

    @Test
    void the_cache_never_holds_more_than_its_bound() {
        for (int i = 0; i < BasicCache.MAX_ENTRIES + 50; i++) cache.put("user" + i, "pw", "h");
        assertThat(cache.size()).isLessThanOrEqualTo(BasicCache.MAX_ENTRIES);
        assertThat(cache.contains("user" + (BasicCache.MAX_ENTRIES + 49), "pw", "h"))
                .as("the newest is kept")
                .isTrue();
    }

    @Test
    void no_password_is_kept_in_the_clear() throws Exception {
        cache.put("alice", "correct horse", "hash1");
        var field = BasicCache.class.getDeclaredField("verified");
        field.setAccessible(true);
        assertThat(field.get(cache).toString()).doesNotContain("correct horse").doesNotContain("alice");
    }
}
