package io.jobstream.auth;

import io.jobstream.limit.Rate;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Limits password guessing: failed password checks per client address and per username (known or not), each a token
 * bucket of {@code perMinute} a minute. A check takes a token from both buckets before it hashes and gives them back
 * when the password was right, so only failures count; a check when either bucket is empty is answered 429 without
 * hashing, so guessing costs the node nothing once throttled. The per-address limit stops one client; the per-username
 * limit stops many clients guessing one account, at the price that the account's owner also waits (credentials
 * verified within {@code auth.basic-cache} still pass, so running scripts and emitters are not locked out).
 * Refusals are counted in {@code auth_throttled_total{by}}. Thread-safe.
 */
final class LoginThrottle {
    /**
     * Distinct addresses or usernames remembered; beyond, the least recently used are forgotten ({@link Rate}). That
     * forgives a flood of distinct keys, which is why what this guards (password hashing) is also bounded on its own
     * ({@link HashingGate}).
     */
    private static final int MAX_KEYS = 100_000;

    private final Rate byAddress;
    private final Rate byUsername;

    LoginThrottle(int perAddressPerMinute, int perUserPerMinute, MeterRegistry registry, LongSupplier nanoTime) {
        this.byAddress = perMinute(perAddressPerMinute, registry, "address", nanoTime);
        this.byUsername = perMinute(perUserPerMinute, registry, "username", nanoTime);
    }

    private static Rate perMinute(int perMinute, MeterRegistry registry, String by, LongSupplier nanoTime) {
        Counter throttled = registry.counter(Metrics.AUTH_THROTTLED, "by", by);
        return Rate.bucket(
                perMinute, Duration.ofMinutes(1), perMinute, MAX_KEYS, nanoTime, refused -> throttled.increment());
    }

    /** Takes a try for this address and username: 0 when taken, else the seconds to wait (counted as throttled). */
    long attempt(String address, String username) {
        long wait = byAddress.take(address, 1);
        if (wait > 0) return wait;
        wait = byUsername.take(username.toLowerCase(Locale.ROOT), 1);
        if (wait > 0) byAddress.giveBack(address, 1); // refused, so not a try of this address
        return wait;
    }

    /**
     * Seconds until a try for this address and username would be taken, 0 when it would now; takes nothing. A
     * positive answer is counted as throttled: the caller refuses on it.
     */
    long wouldWait(String address, String username) {
        long wait = byAddress.check(address, 1);
        return wait > 0 ? wait : byUsername.check(username.toLowerCase(Locale.ROOT), 1);
    }

    /** The password was right (or the check did not happen): the try does not count. */
    void giveBack(String address, String username) {
        byAddress.giveBack(address, 1);
        byUsername.giveBack(username.toLowerCase(Locale.ROOT), 1);
    }
}
