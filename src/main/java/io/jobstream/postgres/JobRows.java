package io.jobstream.postgres;

import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Timestamps;
import io.jobstream.persist.HostStatusCounts;
import io.jobstream.persist.JobProgress;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Job bookkeeping inside the receiver's transaction: creates rows for jobs first seen through ingest, locks the
 * batch's jobs (in id order, so concurrent nodes cannot deadlock), applies {@link JobProgress}, and reports what
 * changed for the {@code jobs} websocket messages.
 */
final class JobRows {
    /** What one batch adds to one job. */
    private static final class Acc {
        int newEvents;
        Integer finalCounter;
        boolean failed;
        int plays;
        int tasks;
        String hostStatusCounts;
        Instant lastCreated;
        long lagMicrosSum;
        long bytes; // stdout + event_data, UTF-8: the storage report's per-job size
        String playbook = ""; // the first one named: jobs first seen through ingest get theirs from the events
    }

    private final Map<Long, Acc> jobs = new TreeMap<>();
    private long lastJob;
    private Acc lastAcc; // jobs.get(lastJob); entries are never removed, so it stays valid

    /** @param textBytes the event's stdout + event_data in UTF-8 bytes, as the COPY encoded them */
    void stored(JobEvent e, Instant modified, long textBytes) {
        Acc a = acc(e.jobId());
        a.newEvents++;
        a.bytes += textBytes;
        if (a.playbook.isEmpty()) a.playbook = e.playbook();
        switch (e.event()) {
            case "playbook_on_play_start" -> a.plays++;
            case "playbook_on_task_start" -> a.tasks++;
            case "playbook_on_stats" -> {
                a.failed |= e.failed();
                a.hostStatusCounts = HostStatusCounts.fromStats(e.eventData());
            }
            default -> {}
        }
        if (a.lastCreated == null || e.created().isAfter(a.lastCreated)) a.lastCreated = e.created();
        a.lagMicrosSum +=
                Timestamps.micros(modified) - Timestamps.micros(e.created()); // toNanos overflows for far-off dates
    }

    void eof(JobEof eof) {
        acc(eof.jobId()).finalCounter = eof.finalCounter();
    }

    void touch(long jobId) {
        acc(jobId);
    }

    private Acc acc(long jobId) {
        // a batch is mostly runs of one job's events: one map lookup (and boxed key) per run, not two per event
        if (lastAcc != null && jobId == lastJob) return lastAcc;
        lastJob = jobId;
        lastAcc = jobs.computeIfAbsent(jobId, k -> new Acc());
        return lastAcc;
    }

    /** Writes the bookkeeping of every touched job; returns the job changes, in job id order. */
    List<JobChange> write(Connection c) throws SQLException {
        if (jobs.isEmpty()) return List.of();
        Long[] ids = jobs.keySet().toArray(Long[]::new);
        Map<Long, JobProgress.Row> before = createAndLock(c, c.createArrayOf("bigint", ids));
        List<JobChange> changes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(UPDATE)) {
            for (Map.Entry<Long, Acc> e : jobs.entrySet()) {
                JobProgress.Row old = before.get(e.getKey());
                Acc a = e.getValue();
                JobProgress.Row now =
                        JobProgress.apply(old, new JobProgress.Delta(a.newEvents, a.finalCounter, a.failed));
                bind(ps, e.getKey(), a, old, now);
                ps.addBatch();
                String status = now.status().equals(old.status()) ? null : now.status();
                boolean finishedNow = now.finished() && !old.finished();
                if (status != null || a.finalCounter != null || finishedNow) {
                    changes.add(new JobChange(e.getKey(), status, a.finalCounter, finishedNow));
                }
            }
            ps.executeBatch();
        }
        return changes;
    }

    /**
     * Creates the rows of jobs first seen here, then locks every job of the batch in id order (so concurrent nodes
     * cannot deadlock) and reads its progress: two statements sent in one round trip (each round trip costs the
     * receiver a wake-up of the backend; the SELECT, a statement of its own, sees the rows the INSERT made).
     */
    private static Map<Long, JobProgress.Row> createAndLock(Connection c, Array ids) throws SQLException {
        Map<Long, JobProgress.Row> rows = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO job (id, name, status) SELECT x, 'job ' || x, 'new'"
                + " FROM unnest(?::bigint[]) x ON CONFLICT (id) DO NOTHING;"
                + " SELECT id, status, final_counter, stored_events, failed, event_processing_finished, launched"
                + " FROM job WHERE id = ANY(?) ORDER BY id FOR UPDATE")) {
            ps.setArray(1, ids);
            ps.setArray(2, ids);
            ps.execute(); // the INSERT's count comes first
            if (!ps.getMoreResults()) throw new SQLException("locking the batch's jobs returned no rows");
            try (ResultSet rs = ps.getResultSet()) {
                while (rs.next()) {
                    int fc = rs.getInt(3);
                    Integer finalCounter = rs.wasNull() ? null : fc;
                    rows.put(
                            rs.getLong(1),
                            new JobProgress.Row(
                                    rs.getString(2),
                                    finalCounter,
                                    rs.getInt(4),
                                    rs.getBoolean(5),
                                    rs.getBoolean(6),
                                    rs.getBoolean(7)));
                }
            }
        }
        return rows;
    }

    private static final String UPDATE = "UPDATE job SET status = ?, final_counter = ?,"
            + " emitted_events = COALESCE(?, emitted_events), stored_events = ?, failed = ?,"
            + " event_processing_finished = ?, play_count = play_count + ?, task_count = task_count + ?,"
            + " host_status_counts = COALESCE(?::jsonb, host_status_counts),"
            + " last_event_created = GREATEST(last_event_created, ?), last_lag_ms = COALESCE(?, last_lag_ms),"
            + " started = CASE WHEN ? THEN COALESCE(started, now()) ELSE started END,"
            + " finished = CASE WHEN ? THEN now() ELSE finished END, modified = now(),"
            + " stored_bytes = stored_bytes + ?, playbook = CASE WHEN playbook = '' THEN ? ELSE playbook END,"
            // a late event for a job whose events retention deleted is stored: the job has events again, and the
            // next cleanup (the job still finished long ago) deletes them and marks it again
            + " events_expired = events_expired AND ? = 0"
            + " WHERE id = ?";

    private static void bind(PreparedStatement ps, long id, Acc a, JobProgress.Row old, JobProgress.Row now)
            throws SQLException {
        int i = 1;
        ps.setString(i++, now.status());
        setInt(ps, i++, now.finalCounter());
        setInt(ps, i++, a.finalCounter);
        ps.setInt(i++, now.storedEvents());
        ps.setBoolean(i++, now.failed());
        ps.setBoolean(i++, now.finished());
        ps.setInt(i++, a.plays);
        ps.setInt(i++, a.tasks);
        ps.setString(i++, a.hostStatusCounts);
        ps.setTimestamp(i++, a.lastCreated == null ? null : Timestamp.from(a.lastCreated));
        if (a.newEvents > 0) ps.setDouble(i++, a.lagMicrosSum / 1000.0 / a.newEvents);
        else ps.setNull(i++, Types.DOUBLE);
        ps.setBoolean(
                i++,
                !now.status().equals("new")
                        && !now.status().equals("pending")
                        && !now.status().equals("waiting"));
        ps.setBoolean(i++, JobProgress.isActive(old.status()) && !JobProgress.isActive(now.status()));
        ps.setLong(i++, a.bytes);
        ps.setString(i++, a.playbook);
        ps.setInt(i++, a.newEvents);
        ps.setLong(i, id);
    }

    private static void setInt(PreparedStatement ps, int i, Integer v) throws SQLException {
        if (v == null) ps.setNull(i, Types.INTEGER);
        else ps.setInt(i, v);
    }
}
