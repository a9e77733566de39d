package io.jobstream.websocket;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What being refused costs a websocket client ({@code ws.max-refused-messages}, {@code ws.refused-block}). A refused
 * message is cheap on its own (refused before any store read, with a reply built once), but a client that keeps
 * sending them would still buy the node's CPU at the rate it sends: a frame read, a parse, a reply written, a metric,
 * per message, for ever. So each connection counts its refusals in a sliding window of
 * {@link io.jobstream.config.Config.WsLimits#REFUSED_WINDOW}, and one more than the limit closes it (1008); its user's
 * new connections are then refused at the handshake for a while, so that reconnecting does not reset the count. A
 * user's other open connections are left alone: one misbehaving tab does not cut off the others.
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

    /**
     * @param max   refusals a connection may have in any {@code window}; 0 or less: never closed for them
     * @param block how long a closed connection's user is refused new connections; zero: not at all
     */
    Refusals(int max, Duration window, Duration block, LongSupplier nanoTime) {
        this.max = max;
        this.windowNanos = window.toNanos();
        this.blockNanos = block.toNanos();
        this.nanoTime = nanoTime;
    }

    int max() {
        return max;
    }

    /** A new connection's count. */
    Count count() {
        return new Count();
    }

    /** Seconds (at least 1) until the user may connect again, or 0 when it may now. */
    long blockedFor(long userId) {
        Long until = blockedUntil.get(userId);
        if (until == null) return 0;
        long left = until - nanoTime.getAsLong();
        if (left <= 0) {
            blockedUntil.remove(userId, until);
            return 0;
        }
        return Math.max(1, (left + 999_999_999L) / 1_000_000_000L);
    }

    /** Refuses the user's new connections for the block period (a connection of it was closed for refusals). */
    void block(long userId) {
        if (blockNanos <= 0) return;
        long now = nanoTime.getAsLong();
        blockedUntil.values().removeIf(until -> until - now <= 0); // rare: once per connection closed
        blockedUntil.put(userId, now + blockNanos);
    }

    /**
     * One connection's refusals: the times of the last {@code max}, in a ring. Over the limit when the oldest of
     * them is still within the window as one more comes.
     */
    final class Count {
        private final long[] times = new long[Math.max(0, max)];
        private int next;
        private int filled;

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
