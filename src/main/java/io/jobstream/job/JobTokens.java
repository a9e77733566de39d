package io.jobstream.job;

import io.jobstream.event.CaptureLevel;
import java.util.function.BiFunction;
import java.util.function.LongConsumer;

/** Credentials for a launched job's plugin: an ingest token good for that job only. Thread-safe implementations. */
public interface JobTokens {
    /** A new token that may write events of {@code jobId}, taken at {@code capture} (the launch's level). */
    String issue(long jobId, CaptureLevel capture);

    /** Revokes the job's tokens (its run has ended). */
    void revoke(long jobId);

    static JobTokens of(BiFunction<Long, CaptureLevel, String> issue, LongConsumer revoke) {
        return new JobTokens() {
            @Override
            public String issue(long jobId, CaptureLevel capture) {
                return issue.apply(jobId, capture);
            }

            @Override
            public void revoke(long jobId) {
                revoke.accept(jobId);
            }
        };
    }
}
