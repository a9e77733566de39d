package io.jobstream.job;

import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/** Credentials for a launched job's plugin: an ingest token good for that job only. Thread-safe implementations. */
public interface JobTokens {
    /** A new token that may write events of {@code jobId}. */
    String issue(long jobId);

    /** Revokes the job's tokens (its run has ended). */
    void revoke(long jobId);

    static JobTokens of(LongFunction<String> issue, LongConsumer revoke) {
        return new JobTokens() {
            @Override
            public String issue(long jobId) {
                return issue.apply(jobId);
            }

            @Override
            public void revoke(long jobId) {
                revoke.accept(jobId);
            }
        };
    }
}
