package io.jobstream.websocket;

import java.util.function.LongSupplier;

/**
 * The incoming message limit of one connection: at most {@code perSecond} messages in each one-second window.
 * A fixed window is enough here (a browser sends a handful of subscribes per page), and costs two fields.
 * Called on the connection's Jetty thread only, one message at a time.
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
        if (perSecond <= 0) return true;
        long now = nanoTime.getAsLong();
        if (now - windowStart >= SECOND) {
            windowStart = now;
            inWindow = 0;
        }
        return ++inWindow <= perSecond;
    }
}
