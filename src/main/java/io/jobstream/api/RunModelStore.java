package io.jobstream.api;

import java.util.Optional;

/**
 * Where finished jobs' run models are kept as blobs ({@link RunModelCodec}) for every node of a cluster to read:
 * PostgreSQL's {@code job_run_model} (V8). Implementations are thread-safe; every method may throw
 * {@link ReadException}.
 */
public interface RunModelStore {
    /** The job's stored model, if one is stored. */
    Optional<Stored> find(long jobId);

    /**
     * Stores the job's model in place of any other, only if the job has finished its events, has not expired, and
     * still has exactly {@code rows} stored events (an event stored since the model was read makes it stale).
     *
     * @return whether it was stored
     */
    boolean save(long jobId, int format, int rows, int maxCounter, byte[] model);

    /** A stored model: its codec's format, the rows it was built from and their highest counter, the blob. */
    record Stored(int format, int rows, int maxCounter, byte[] model) {}

    /** Keeps nothing: for a cache of its own (tests, tools). */
    RunModelStore NONE = new RunModelStore() {
        @Override
        public Optional<Stored> find(long jobId) {
            return Optional.empty();
        }

        @Override
        public boolean save(long jobId, int format, int rows, int maxCounter, byte[] model) {
            return false;
        }
    };
}
