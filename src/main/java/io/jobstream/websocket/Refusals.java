package io.jobstream.websocket;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What being refused costs a websocket client ({@code ws.max-refused-messages}, {@code ws.refused-block}). A refused
 * message is cheap on its own (refused before any store read, with a reply built once), but a client that keeps
 * sending them would still buy the node's CPU at the rate it sends: a frame read, a parse, a reply written, a metric,
 * per message, for ever. So each connection counts its refusals in a sliding window of
 * {@link io.jobstream.config.Config.WsLimits#REFUSED_WINDOW}, and one more than the limit closes it (1008); its user's
 * new connections are then refused at the handshake for a while, so that reconnecting does not reset the count. A
 * user's other open connections are left alone: one misbehaving tab does not cut off the others.
 *
 * <p>Two keys are blocked. The credential the closed connection's handshake carried (Authorization header or session
 * cookie) is refused before the upgrade ({@link #blockedCredentialFor}): a 429 that costs no credential check, no
 * store query and no websocket session, since a client that reconnects in a loop would otherwise pay for itself with
 * the node's CPU again. The user id is refused after authentication ({@link #blockedFor}), for its other credentials.
 * Credentials are kept only as a keyed MAC (a random key made at start), never as they are.
 *
 * <p>Threading: thread-safe. A connection's {@link Count} is used by its Jetty thread (one message at a time); the
 * blocked users are shared. Memory: {@code max} timestamps per open connection, one entry per user blocked within
 * the last {@code block} (expired ones go on the next block). Ownership: the {@link WebsocketEndpoint}.
 */
final class Refusals {
    private final int max;
    private final long windowNanos;
    private final long blockNanos;
    private final LongSupplier nanoTime;
    /** User id to the nanoTime its new connections are admitted again. */
    private final Map<Long, Long> blockedUntil = new ConcurrentHashMap<>();
    /** The same by credential (its MAC). */
    private final Map<String, Long> credentialsBlockedUntil = new ConcurrentHashMap<>();

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    /**
     * @param max   refusals a connection may have in any {@code window}; 0 or less: never closed for them
     * @param block how long a closed connection's user is refused new connections; zero: not at all
     */
    Refusals(int max, Duration window, Duration block, LongSupplier nanoTime) {
        this.max = max;
        this.windowNanos = window.toNanos();
        this.blockNanos = block.toNanos();
        this.nanoTime = nanoTime;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    int max() {
        return max;
    }

    /** A new connection's count; {@code credential} is what its handshake authenticated with (null: none). */
    Count count(String credential) {
        return new Count(credential == null || max <= 0 ? null : mac(credential));
    }

    /**
     * Seconds (at least 1) until this credential may connect again, or 0 when it may now: asked before the upgrade,
     * with nothing checked yet. Costs a MAC only while some credential is blocked.
     */
    long blockedCredentialFor(String credential) {
        if (credential == null || credentialsBlockedUntil.isEmpty()) return 0;
        return left(credentialsBlockedUntil, mac(credential));
    }

    /** Seconds (at least 1) until the user may connect again, or 0 when it may now. */
    long blockedFor(long userId) {
        return blockedUntil.isEmpty() ? 0 : left(blockedUntil, userId);
    }

    private <K> long left(Map<K, Long> blocked, K key) {
        Long until = blocked.get(key);
        if (until == null) return 0;
        long left = until - nanoTime.getAsLong();
        if (left <= 0) {
            blocked.remove(key, until);
            return 0;
        }
        return Math.max(1, (left + 999_999_999L) / 1_000_000_000L);
    }

    /**
     * Refuses new connections of the user, and of the credential the closed connection used, for the block period
     * (a connection was closed for refusals).
     */
    void block(long userId, Count closed) {
        if (blockNanos <= 0) return;
        long now = nanoTime.getAsLong();
        // rare: once per connection closed
        blockedUntil.values().removeIf(until -> until - now <= 0);
        credentialsBlockedUntil.values().removeIf(until -> until - now <= 0);
        blockedUntil.put(userId, now + blockNanos);
        if (closed.credential != null) credentialsBlockedUntil.put(closed.credential, now + blockNanos);
    }

    private String mac(String credential) {
        Mac m = macs.get();
        return Base64.getEncoder().encodeToString(m.doFinal(credential.getBytes(StandardCharsets.UTF_8)));
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }

    /**
     * One connection's refusals: the times of the last {@code max}, in a ring. Over the limit when the oldest of
     * them is still within the window as one more comes.
     */
    final class Count {
        private final long[] times = new long[Math.max(0, max)];
        private final String credential; // its MAC, or null
        private int next;
        private int filled;

        private Count(String credential) {
            this.credential = credential;
        }

        /** Counts one refusal: true when it is one too many (the connection is to be closed). */
        synchronized boolean refuse() {
            if (times.length == 0) return false;
            long now = nanoTime.getAsLong();
            if (filled == times.length && now - times[next] < windowNanos) return true;
            times[next] = now;
            next = (next + 1) % times.length;
            if (filled < times.length) filled++;
            return false;
        }
    }
}
