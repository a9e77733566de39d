package io.jobstream.postgres;

import io.jobstream.event.JobEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Writes event rows with binary COPY inside the caller's transaction.
 *
 * <p>Two paths. The fast path COPYs straight into {@code job_event}; it fails as a whole if any row is already
 * stored (primary key (job_id, counter)). The caller then rolls back and takes the de-duplicating path: COPY into a
 * temporary stage table and {@code INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING}, which reports exactly which
 * rows were new. The stage path costs about half the throughput (STACK.md §3), so it is used only when needed.
 */
final class EventCopy {
    private static final String COLUMNS = "(id, job_id, counter, uuid, parent_uuid, event, event_data, failed, changed,"
            + " playbook, play, role, task, host_name, stdout, start_line, end_line, verbosity, created, modified, received)";
    private static final int FIELDS = 21;
    private static final int SEND_BYTES = 1 << 20;

    private final BinaryCopyBuffer buf = new BinaryCopyBuffer();
    /** Per row of the last copy: stdout + event_data in UTF-8 bytes, as encoded (see {@link #textBytes}). */
    private long[] textBytes = new long[0];

    /** Fast path: all rows are new, or an SQLException with state 23505 is thrown. */
    void copyAll(Connection c, List<JobEvent> events, long[] ids, Instant modified) throws SQLException {
        copy(c, "COPY job_event " + COLUMNS + " FROM STDIN (FORMAT binary)", events, ids, modified);
    }

    /** De-duplicating path: returns the indexes (into {@code events}) of the rows that were new. */
    Set<Integer> copyNew(Connection c, List<JobEvent> events, long[] ids, Instant modified) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE IF NOT EXISTS job_event_stage (LIKE job_event INCLUDING DEFAULTS)"
                    + " ON COMMIT DELETE ROWS");
            s.execute("TRUNCATE job_event_stage");
        }
        copy(c, "COPY job_event_stage " + COLUMNS + " FROM STDIN (FORMAT binary)", events, ids, modified);
        Set<Long> newIds = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_event " + COLUMNS + " SELECT "
                        + COLUMNS.substring(1, COLUMNS.length() - 1)
                        + " FROM job_event_stage ON CONFLICT (job_id, counter) DO NOTHING RETURNING id");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) newIds.add(rs.getLong(1));
        }
        Set<Integer> inserted = new HashSet<>();
        for (int i = 0; i < ids.length; i++) if (newIds.contains(ids[i])) inserted.add(i);
        return inserted;
    }

    private void copy(Connection c, String sql, List<JobEvent> events, long[] ids, Instant modified)
            throws SQLException {
        CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            buf.start();
            sizeFor(events.size());
            for (int i = 0; i < events.size(); i++) {
                textBytes[i] = row(events.get(i), ids[i], modified);
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

    /** Encodes the rows as {@link #copyAll} would, without a connection: the receiver's CPU share of a COPY (JMH). */
    long encode(List<JobEvent> events, long[] ids, Instant modified) {
        long bytes = 0;
        buf.start();
        sizeFor(events.size());
        for (int i = 0; i < events.size(); i++) {
            textBytes[i] = row(events.get(i), ids[i], modified);
            if (buf.length() >= SEND_BYTES) {
                bytes += buf.length();
                buf.clear();
            }
        }
        buf.finish();
        bytes += buf.length();
        buf.clear();
        return bytes;
    }

    /**
     * The UTF-8 bytes of stdout and event_data of row {@code i} of the last copy (the storage report's per-job size):
     * taken from the encoding the COPY did anyway, instead of measuring both strings a second time per event.
     */
    long textBytes(int i) {
        return textBytes[i];
    }

    /** Room for {@code rows} rows' text sizes (kept between copies: a batch is at most persist.max-batch rows). */
    private void sizeFor(int rows) {
        if (textBytes.length < rows) textBytes = new long[rows];
    }

    /** Encodes one row; returns its stdout + event_data bytes. */
    private long row(JobEvent e, long id, Instant modified) {
        long text = 0;
        buf.startRow(FIELDS);
        buf.bigint(id);
        buf.bigint(e.jobId());
        buf.integer(e.counter());
        buf.text(e.uuid());
        buf.text(e.parentUuid());
        buf.text(e.event());
        text += buf.text(e.eventData());
        buf.bool(e.failed());
        buf.bool(e.changed());
        buf.text(e.playbook());
        buf.text(e.play());
        buf.text(e.role());
        buf.text(e.task());
        buf.text(e.hostName());
        text += buf.text(e.stdout());
        buf.integer(e.startLine());
        buf.integer(e.endLine());
        buf.integer(e.verbosity());
        buf.timestamptz(e.created());
        buf.timestamptz(modified);
        buf.timestamptz(e.received());
        return text;
    }
}
