package io.jobstream.websocket;

import java.util.function.LongSupplier;

/**
 * The incoming message limit of one connection (or, weighted by the jobs a message names, of one user's subscribes):
 * at most {@code perSecond} in each one-second window.
 * A fixed window is enough here (a browser sends a handful of subscribes per page), and costs two fields.
 * Not thread-safe: one connection's Jetty thread, or the caller's lock.
 */
final class MessageRate {
    private static final long SECOND = 1_000_000_000L;

    private final int perSecond;
    private final LongSupplier nanoTime;
    private long windowStart;
    private int inWindow;

    /** @param perSecond 0 = no limit */
    MessageRate(int perSecond, LongSupplier nanoTime) {
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
        this.windowStart = nanoTime.getAsLong();
    }

    /** Whether one more message may be handled now. */
    boolean admit() {
        return admit(1);
    }

    /**
     * Whether a message of this weight (e.g. the jobs it names) may be handled now. A window's first message always
     * passes, so that a limit below one message's weight slows it rather than refusing it for ever.
     */
    boolean admit(int weight) {
        if (perSecond <= 0) return true;
        long now = nanoTime.getAsLong();
        if (now - windowStart >= SECOND) {
            windowStart = now;
            inWindow = 0;
        }
        if (inWindow == 0) {
            inWindow = weight;
            return true;
        }
        inWindow += weight;
        return inWindow <= perSecond;
    }
}
