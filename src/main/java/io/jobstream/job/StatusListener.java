package io.jobstream.job;

import java.time.Instant;

/** Told of every status a launched job moves to, for the {@code jobs-status_changed} websocket messages. */
@FunctionalInterface
public interface StatusListener {
    /** @param finishedOrNull when the job finished, for final statuses; else null */
    void statusChanged(long jobId, String status, Instant finishedOrNull);
}
