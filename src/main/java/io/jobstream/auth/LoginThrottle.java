package io.jobstream.auth;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.LongSupplier;

/**
 * Limits password guessing: failed password checks per client address and per username (known or not), each a token
 * bucket of {@code perMinute} a minute. A check takes a token from both buckets before it hashes and gives them back
 * when the password was right, so only failures count; a check when either bucket is empty is answered 429 without
 * hashing, so guessing costs the node nothing once throttled. The per-address limit stops one client; the per-username
 * limit stops many clients guessing one account, at the price that the account's owner also waits (credentials
 * verified within {@code auth.basic-cache} still pass, so running scripts and emitters are not locked out).
 * Thread-safe.
 */
final class LoginThrottle {
    /** Distinct addresses or usernames remembered; see {@link Buckets} for what happens beyond. */
    private static final int MAX_KEYS = 100_000;

    private final Buckets byAddress;
    private final Buckets byUsername;
    private final MeterRegistry registry;

    LoginThrottle(int perAddressPerMinute, int perUserPerMinute, MeterRegistry registry, LongSupplier nanoTime) {
        this.byAddress = new Buckets(perAddressPerMinute, perAddressPerMinute, MAX_KEYS, nanoTime);
        this.byUsername = new Buckets(perUserPerMinute, perUserPerMinute, MAX_KEYS, nanoTime);
        this.registry = registry;
    }

    /** Takes a try for this address and username: 0 when taken, else the seconds to wait (counted as throttled). */
    long attempt(String address, String username) {
        String user = username.toLowerCase(java.util.Locale.ROOT);
        long waitAddress = byAddress.wait(address);
        long waitUser = waitAddress > 0 ? 0 : byUsername.wait(user);
        if (waitAddress > 0 || waitUser > 0) {
            registry.counter(Metrics.AUTH_THROTTLED, "by", waitAddress > 0 ? "address" : "username").increment();
            return Math.max(waitAddress, waitUser);
        }
        byAddress.take(address);
        byUsername.take(user);
        return 0;
    }

    /** The password was right (or the check did not happen): the try does not count. */
    void giveBack(String address, String username) {
        byAddress.give(address);
        byUsername.give(username.toLowerCase(java.util.Locale.ROOT));
    }
}
