package io.jobstream.api;

import java.util.Optional;

/**
 * Reads what the run analysis needs of a job (timeline, host summaries, compare). Implementations are
 * thread-safe; every method may throw {@link ReadException}.
 */
public interface RunReader {
    /**
     * Hands the job's rows with a counter above {@code after} to the visitor in counter order, without holding them
     * all in the reader (0: every row).
     */
    void visit(long jobId, int after, java.util.function.Consumer<RunRow> visitor);

    /** The job's last {@code playbook_on_stats} event: its created time and its event_data JSON text. */
    Optional<Stats> stats(long jobId);

    record Stats(java.time.Instant created, String eventData) {}
}
