package io.jobstream.job;

/** Credentials for a launched job's plugin: an ingest token good for that job only. Thread-safe implementations. */
public interface JobTokens {
    /** A new token that may write events of {@code jobId}. */
    String issue(long jobId);

    /** Revokes the job's tokens (its run has ended). */
    void revoke(long jobId);
}
