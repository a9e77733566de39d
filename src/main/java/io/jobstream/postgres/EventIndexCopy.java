package io.jobstream.postgres;

import io.jobstream.event.JobEvent;
import io.jobstream.event.Timestamps;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Writes the narrow {@code job_event_index} rows (V6) of the events just stored, with binary COPY inside the
 * caller's transaction, so an event is searchable and on the timeline exactly when it is stored. About 100 bytes a
 * row; the cost is measured in docs/BENCHMARKS.md. Not thread-safe: one per store (receiver thread).
 */
final class EventIndexCopy {
    private static final String SQL = "COPY job_event_index (job_id, counter, event, host_name, task_uuid, play, task,"
            + " changed, failed, created_us) FROM STDIN (FORMAT binary)";
    private static final int FIELDS = 10;
    private static final int SEND_BYTES = 1 << 20;

    private final BinaryCopyBuffer buf = new BinaryCopyBuffer();

    /** A task's start event: its uuid names the task, and its play and task names are kept. */
    static boolean isTaskStart(String event) {
        return event.equals("playbook_on_task_start") || event.equals("playbook_on_handler_task_start");
    }

    /** @param inserted indexes into {@code events} of the rows that were new, or null when all were */
    void copy(Connection c, List<JobEvent> events, Set<Integer> inserted) throws SQLException {
        if (events.isEmpty() || (inserted != null && inserted.isEmpty())) return;
        CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(SQL);
        try {
            buf.start();
            for (int i = 0; i < events.size(); i++) {
                if (inserted != null && !inserted.contains(i)) continue;
                row(events.get(i));
                if (buf.length() >= SEND_BYTES) {
                    in.writeToCopy(buf.array(), 0, buf.length());
                    buf.clear();
                }
            }
            buf.finish();
            in.writeToCopy(buf.array(), 0, buf.length());
            in.endCopy();
        } finally {
            buf.clear();
            if (in.isActive()) in.cancelCopy();
        }
    }

    private void row(JobEvent e) {
        boolean task = isTaskStart(e.event());
        buf.startRow(FIELDS);
        buf.bigint(e.jobId());
        buf.integer(e.counter());
        buf.text(e.event());
        buf.text(e.hostName());
        buf.text(task ? e.uuid() : e.parentUuid());
        buf.text(task ? e.play() : "");
        buf.text(task ? e.task() : "");
        buf.bool(e.changed());
        buf.bool(e.failed());
        buf.bigint(Timestamps.micros(e.created()));
    }
}
