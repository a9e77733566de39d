package io.jobstream.api;

import java.io.IOException;

/**
 * A job's output text: the stdout of its events in counter order (reference §2.12). Implementations stream from
 * the store page by page and are thread-safe; {@link ReadException} when the store fails.
 */
public interface StdoutSource {
    /** The sum of the characters of all the job's event stdout (AWX's size guard, without newlines). */
    long length(long jobId);

    /**
     * Hands each non-empty event stdout to the sink, in counter order, as rows arrive from the store: memory
     * stays constant however long the job is. An {@link IOException} from the sink (client gone) ends the walk
     * and is rethrown.
     */
    void copy(long jobId, Sink sink) throws IOException;

    /** As {@link #copy(long, Sink)}, with each event's {@code created} (for {@code ?timestamps=1}). */
    void copyTimed(long jobId, TimedSink sink) throws IOException;

    @FunctionalInterface
    interface Sink {
        void accept(String stdout) throws IOException;
    }

    @FunctionalInterface
    interface TimedSink {
        void accept(java.time.Instant created, String stdout) throws IOException;
    }
}
