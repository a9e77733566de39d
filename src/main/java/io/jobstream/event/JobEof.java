package io.jobstream.event;

/**
 * AWX's {@code {"event": "EOF", "final_counter": n}}: the emitter sent n events for this job.
 * Never stored as an event row; it sets the job's {@code final_counter}.
 */
public record JobEof(long jobId, int finalCounter) implements JobMessage {
    public JobEof {
        if (jobId < 1) throw new IllegalArgumentException("jobId must be >= 1, was " + jobId);
        if (finalCounter < 0) throw new IllegalArgumentException("finalCounter must be >= 0, was " + finalCounter);
    }
}
