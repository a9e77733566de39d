package io.jobstream.queue;

/**
 * How far the queue has committed, in its own intake order: what tells a subscriber an event that is lost (never
 * coming) from one that is late (a node still holds it, or it waits in the queue). A reader takes a {@link #mark()}
 * when it first misses a counter, and may give up on it only once {@link #committedThrough} says every message the
 * queue held at that mark has been committed (or parked). Both calls are cheap and never block (no I/O): many
 * subscribers ask, on their readers' threads. Thread-safe.
 */
public interface Watermark {
    /** A position covering every message accepted before this call. */
    long mark();

    /** Whether every message accepted up to {@code mark} was committed (or parked) when the queue last looked. */
    boolean committedThrough(long mark);

    /**
     * A queue whose messages are committed by this node's own receiver, in order, within the request that
     * accepted them (the memory queue): there is nothing elsewhere to wait for, so a missing counter is the
     * emitter's and the subscriber's own hole wait is all there is.
     */
    Watermark LOCAL = new Watermark() {
        @Override
        public long mark() {
            return 0;
        }

        @Override
        public boolean committedThrough(long mark) {
            return true;
        }
    };
}
