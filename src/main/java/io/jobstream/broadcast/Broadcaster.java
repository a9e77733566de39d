package io.jobstream.broadcast;

import io.jobstream.event.CommittedBatch;

/**
 * Carries committed events to every node's subscribers (memory: this node only; Redis: the cluster).
 * Called by the receiver thread right after a commit; must not block on slow subscribers.
 */
public interface Broadcaster extends AutoCloseable {
    void publish(CommittedBatch batch);

    @Override
    void close();
}
