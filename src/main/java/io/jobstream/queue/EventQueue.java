package io.jobstream.queue;

import io.jobstream.metrics.CheckResult;
import java.time.Duration;
import java.util.List;

/**
 * The bounded hand-off from intake (many producer threads) to the receiver (one drainer).
 * Overflow rule: {@link #offerAll} refuses the whole batch when it does not fit; nothing accepted is dropped.
 */
public interface EventQueue extends AutoCloseable {
    /** Adds every envelope, or none of them when there is no room for all; never blocks. */
    boolean offerAll(List<Envelope> envelopes);

    /**
     * Waits up to {@code timeout} for the first envelope, then moves up to {@code max} envelopes that are already
     * there into {@code sink}, in arrival order. Returns how many were moved (0 on timeout).
     */
    int drainTo(List<Envelope> sink, int max, Duration timeout) throws InterruptedException;

    int depth();

    int capacity();

    /** How far this queue has committed, for subscribers deciding whether a missing counter can still come. */
    default Watermark watermark() {
        return Watermark.LOCAL;
    }

    /** OK while the queue has room; "full" when intake would be refused for want of it. Cheap, any thread. */
    default CheckResult check() {
        return depth() < capacity() ? CheckResult.OK : CheckResult.failed("full");
    }

    /**
     * Lets go of what the queue holds for this node (a durable queue acknowledges what the receiver finished); called
     * after the receiver stopped. Idempotent. The memory queue holds nothing outside the heap: nothing to do.
     */
    @Override
    default void close() {}
}
