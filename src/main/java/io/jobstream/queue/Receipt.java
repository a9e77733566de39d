package io.jobstream.queue;

/**
 * How the receiver reports the fate of one queued message back to whoever accepted it (an HTTP request waiting
 * to answer, a durable queue waiting to acknowledge). Called once per message, on the receiver thread, after
 * the transaction that decided it has committed; implementations must be quick and must not block.
 * A durable queue may instead complete an intake receipt with {@link #stored()} once the message is durable in the
 * queue itself (cluster mode: appended to the Redis stream), on the intake thread.
 */
public interface Receipt {
    /** The message is durable in the store (an event row, or the job's final counter). */
    void stored();

    /** The event was already stored (same job and counter); nothing was written. */
    void duplicate();

    /** The message could not be stored even on its own; it is parked, not silently dropped. */
    void failed(String reason);

    Receipt NONE = new Receipt() {
        @Override
        public void stored() {}

        @Override
        public void duplicate() {}

        @Override
        public void failed(String reason) {}
    };
}
