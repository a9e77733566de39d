package io.jobstream.persist;

import java.util.Set;

/**
 * The job bookkeeping rules applied to every committed batch, as a pure function of the job row before the batch
 * and what the batch adds, so they can be tested without a database.
 *
 * <ul>
 *   <li>{@code stored_events} counts distinct stored counters; the job's events are complete
 *       ({@code event_processing_finished}) once the EOF's {@code final_counter} is known and that many are stored.
 *   <li>The first stored event moves a new/pending/waiting job to {@code running}.
 *   <li>A job whose events are complete while it is still active finishes: {@code failed} when its
 *       {@code playbook_on_stats} reported failures or unreachable hosts, else {@code successful} — unless this
 *       node launched it: a launched job's final status comes only from its launcher (the ansible-playbook exit
 *       code, or a cancel), because the process may still fail or be canceled after its last event.
 * </ul>
 */
public final class JobProgress {
    static final Set<String> ACTIVE = Set.of("new", "pending", "waiting", "running");

    /** The columns of a job row the rules read. {@code finalCounter} is null until an EOF arrived. */
    public record Row(
            String status, Integer finalCounter, int storedEvents, boolean failed, boolean finished, boolean launched) {
        public Row(String status, Integer finalCounter, int storedEvents, boolean failed, boolean finished) {
            this(status, finalCounter, storedEvents, failed, finished, false);
        }
    }

    /** What a batch adds to one job. {@code finalCounter} is null when the batch has no EOF for the job. */
    public record Delta(int newEvents, Integer finalCounter, boolean failed) {}

    private JobProgress() {}

    public static boolean isActive(String status) {
        return ACTIVE.contains(status);
    }

    public static Row apply(Row before, Delta delta) {
        Integer finalCounter = delta.finalCounter() != null ? delta.finalCounter() : before.finalCounter();
        int stored = before.storedEvents() + delta.newEvents();
        boolean failed = before.failed() || delta.failed();
        boolean finished = finalCounter != null && stored >= finalCounter;
        String status = before.status();
        if (ACTIVE.contains(status) && finished && !before.launched()) {
            status = failed ? "failed" : "successful";
        } else if (!status.equals("running") && ACTIVE.contains(status) && delta.newEvents() > 0) {
            status = "running";
        }
        return new Row(status, finalCounter, stored, failed, finished, before.launched());
    }
}
