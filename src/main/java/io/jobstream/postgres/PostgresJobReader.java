package io.jobstream.postgres;

import static io.jobstream.postgres.Statements.instant;

import io.jobstream.api.JobQuery;
import io.jobstream.api.JobReader;
import io.jobstream.api.JobView;
import io.jobstream.api.Page;
import io.jobstream.api.ReadException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Reads the job table for the REST API. Thread-safe; borrows a pooled connection per call. */
public final class PostgresJobReader implements JobReader {
    private static final String COLUMNS = "id, name, playbook, status, failed, created, modified, started, finished,"
            + " job_explanation, emitted_events, final_counter, stored_events, event_processing_finished,"
            + " host_status_counts::text AS host_status_counts, play_count, task_count, last_event_created,"
            + " last_lag_ms, capture, capture_dropped_events, capture_dropped_bytes, events_expired,"
            + " execution_node";

    private final DataSource dataSource;

    public PostgresJobReader(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Optional<JobView> find(long id) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM job WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(job(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new ReadException("reading job " + id + " failed", e);
        }
    }

    @Override
    public Page<JobView> list(JobQuery q, Long visibleTo, long offset, int limit, boolean withCount) {
        List<String> conditions = new ArrayList<>();
        List<Binder> binds = new ArrayList<>();
        filters(q, conditions, binds);
        if (visibleTo != null) {
            conditions.add(JobVisibility.CONDITION);
            binds.add((ps, c, i) -> JobVisibility.bindUser(ps, i, visibleTo));
        }
        String where = conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
        // the order column is one of JobQuery.ORDERABLE (checked there); id breaks ties so that pages are stable
        String dir = q.descending() ? " DESC" : "";
        String order = " ORDER BY " + (q.order().equals("id") ? "" : q.order() + dir + " NULLS LAST, ") + "id" + dir;
        try (Connection c = dataSource.getConnection()) {
            List<JobView> rows = new ArrayList<>();
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT " + COLUMNS + " FROM job j" + where + order + " LIMIT ? OFFSET ?")) {
                int i = bind(ps, c, binds);
                ps.setInt(i++, limit);
                ps.setLong(i, offset);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(job(rs));
                }
            }
            Long count = null;
            if (withCount) {
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job j" + where)) {
                    bind(ps, c, binds);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        count = rs.getLong(1);
                    }
                }
            }
            return new Page<>(rows, count);
        } catch (SQLException e) {
            throw new ReadException("listing jobs failed", e);
        }
    }

    /** Binds one condition's parameters from index {@code i}; returns the next index. */
    @FunctionalInterface
    private interface Binder {
        int bind(PreparedStatement ps, Connection c, int i) throws SQLException;
    }

    /** The query's conditions, each with its binder; text never enters the SQL, only bound values. */
    private static void filters(JobQuery q, List<String> conditions, List<Binder> binds) {
        if (!q.statuses().isEmpty()) {
            conditions.add("status = ANY (?)");
            binds.add((ps, c, i) -> {
                ps.setArray(i, c.createArrayOf("text", q.statuses().toArray()));
                return i + 1;
            });
        }
        if (!q.ids().isEmpty()) {
            conditions.add("id = ANY (?)");
            binds.add((ps, c, i) -> {
                ps.setArray(i, c.createArrayOf("bigint", q.ids().toArray()));
                return i + 1;
            });
        }
        text(conditions, binds, "name = ?", q.name());
        text(conditions, binds, "playbook = ?", q.playbook());
        // position(), not LIKE: the user's % and _ are plain characters
        text(conditions, binds, "position(lower(?) in lower(name)) > 0", q.contains());
        if (q.search() != null) {
            conditions.add("(position(lower(?) in lower(name)) > 0 OR position(lower(?) in lower(playbook)) > 0)");
            binds.add((ps, c, i) -> {
                ps.setString(i, q.search());
                ps.setString(i + 1, q.search());
                return i + 2;
            });
        }
        if (q.failed() != null) {
            conditions.add("failed = ?");
            binds.add((ps, c, i) -> {
                ps.setBoolean(i, q.failed());
                return i + 1;
            });
        }
    }

    private static void text(List<String> conditions, List<Binder> binds, String condition, String value) {
        if (value == null) return;
        conditions.add(condition);
        binds.add((ps, c, i) -> {
            ps.setString(i, value);
            return i + 1;
        });
    }

    private static int bind(PreparedStatement ps, Connection c, List<Binder> binds) throws SQLException {
        int i = 1;
        for (Binder b : binds) i = b.bind(ps, c, i);
        return i;
    }

    private static JobView job(ResultSet rs) throws SQLException {
        int finalCounter = rs.getInt("final_counter");
        Integer fc = rs.wasNull() ? null : finalCounter;
        double lag = rs.getDouble("last_lag_ms");
        Double lastLag = rs.wasNull() ? null : lag;
        return new JobView(
                rs.getLong("id"),
                rs.getString("name"),
                rs.getString("playbook"),
                rs.getString("status"),
                rs.getBoolean("failed"),
                instant(rs, "created"),
                instant(rs, "modified"),
                instant(rs, "started"),
                instant(rs, "finished"),
                rs.getString("job_explanation"),
                rs.getInt("emitted_events"),
                fc,
                rs.getInt("stored_events"),
                rs.getBoolean("event_processing_finished"),
                rs.getString("host_status_counts"),
                rs.getInt("play_count"),
                rs.getInt("task_count"),
                instant(rs, "last_event_created"),
                lastLag,
                rs.getString("capture"),
                rs.getLong("capture_dropped_events"),
                rs.getLong("capture_dropped_bytes"),
                rs.getBoolean("events_expired"),
                rs.getString("execution_node"));
    }
}
