package io.jobstream.event;

/** What an emitter sends for a job: an event, or the EOF that closes the job's stream. */
public sealed interface JobMessage permits JobEvent, JobEof {
    long jobId();
}
