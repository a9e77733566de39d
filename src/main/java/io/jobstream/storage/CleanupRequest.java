package io.jobstream.storage;

import java.time.Duration;
import java.time.Instant;

/**
 * One cleanup: events of jobs finished more than {@code eventsOlderThan} ago go (the rows stay), whole jobs finished
 * more than {@code jobsOlderThan} ago go. Zero means "not this kind".
 */
public record CleanupRequest(Duration eventsOlderThan, Duration jobsOlderThan, boolean dryRun) {
    public boolean nothing() {
        return eventsOlderThan.isZero() && jobsOlderThan.isZero();
    }

    /** The finish time before which a job's events go, or null when events are kept. */
    public Instant eventsCutoff(Instant now) {
        return eventsOlderThan.isZero() ? null : now.minus(eventsOlderThan);
    }

    /** The finish time before which whole jobs go, or null when jobs are kept. */
    public Instant jobsCutoff(Instant now) {
        return jobsOlderThan.isZero() ? null : now.minus(jobsOlderThan);
    }
}
