package io.jobstream.broadcast;

import io.jobstream.event.CommittedBatch;
import java.time.Instant;

/**
 * Carries committed events and job status changes to every node's subscribers (memory: this node only; Redis: the
 * cluster). {@link #publish} is called by the receiver thread right after a commit, {@link #publishStatus} by
 * whichever thread changed a job's status; neither may block on slow subscribers. The server owns it and closes it.
 */
public interface Broadcaster extends AutoCloseable {
    void publish(CommittedBatch batch);

    /**
     * A status change that does not come from a committed batch (job launch, cancel, reaper).
     *
     * @param finishedOrNull the job's finish time for final states, else null
     */
    void publishStatus(long jobId, String status, Instant finishedOrNull);

    @Override
    void close();
}
