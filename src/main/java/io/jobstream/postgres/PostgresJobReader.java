package io.jobstream.postgres;

import static io.jobstream.postgres.Statements.instant;

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
            + " last_lag_ms, events_expired";

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
    public Page<JobView> list(List<String> statuses, Long visibleTo, long offset, int limit, boolean withCount) {
        List<String> conditions = new ArrayList<>();
        if (!statuses.isEmpty()) conditions.add("status = ANY (?)");
        if (visibleTo != null) conditions.add(JobVisibility.CONDITION);
        String where = conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
        try (Connection c = dataSource.getConnection()) {
            List<JobView> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT " + COLUMNS + " FROM job j" + where + " ORDER BY id DESC LIMIT ? OFFSET ?")) {
                int i = bindFilters(ps, c, statuses, visibleTo);
                ps.setInt(i++, limit);
                ps.setLong(i, offset);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(job(rs));
                }
            }
            Long count = null;
            if (withCount) {
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job j" + where)) {
                    bindFilters(ps, c, statuses, visibleTo);
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

    /** Binds the status and visibility filters from parameter 1; returns the next parameter index. */
    private static int bindFilters(PreparedStatement ps, Connection c, List<String> statuses, Long visibleTo)
            throws SQLException {
        int i = 1;
        if (!statuses.isEmpty()) ps.setArray(i++, c.createArrayOf("text", statuses.toArray()));
        if (visibleTo != null) i = JobVisibility.bindUser(ps, i, visibleTo);
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
                rs.getBoolean("events_expired"));
    }
}
