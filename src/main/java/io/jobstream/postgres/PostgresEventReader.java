package io.jobstream.postgres;

import io.jobstream.api.EventQuery;
import io.jobstream.api.EventReader;
import io.jobstream.api.EventRow;
import io.jobstream.api.Page;
import io.jobstream.api.ReadException;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Reads job events for the REST API. Every per-job query filters on {@code job_id} first (partition pruning and
 * the primary key). Thread-safe; borrows a pooled connection per call; the tree walk reads through a cursor.
 */
public final class PostgresEventReader implements EventReader {
    static final String COLUMNS = "id, job_id, counter, uuid, parent_uuid, event, event_data, failed, changed,"
            + " playbook, play, role, task, host_name, start_line, end_line, verbosity, created, modified";

    private final DataSource dataSource;

    public PostgresEventReader(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Page<EventRow> list(long jobId, EventQuery query) {
        EventSql where = EventSql.where(jobId, query.filters());
        // Only the first characters of stdout are needed when the list will truncate it (never playbook_on_*).
        String stdout = query.stdoutPrefix() > 0
                ? "CASE WHEN starts_with(event, 'playbook_on') THEN stdout ELSE left(stdout, " + query.stdoutPrefix()
                        + ") END AS stdout"
                : "stdout";
        String sql = "SELECT " + COLUMNS + ", " + stdout + " FROM job_event WHERE " + where.where
                + EventSql.orderBy(query.sort()) + " LIMIT ? OFFSET ?";
        try (Connection c = dataSource.getConnection()) {
            List<EventRow> rows = new ArrayList<>(query.limit());
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = where.bind(c, ps, 1);
                ps.setInt(i++, query.limit());
                ps.setLong(i, query.offset());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(row(rs));
                }
            }
            Long count = query.withCount() ? count(c, where) : null;
            return new Page<>(rows, count);
        } catch (SQLException e) {
            throw new ReadException("listing events of job " + jobId + " failed", e);
        }
    }

    private static long count(Connection c, EventSql where) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job_event WHERE " + where.where)) {
            where.bind(c, ps, 1);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Override
    public Optional<EventRow> find(long eventId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT " + COLUMNS + ", stdout FROM job_event WHERE id = ? LIMIT 1")) {
            ps.setLong(1, eventId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new ReadException("reading event " + eventId + " failed", e);
        }
    }

    @Override
    public void visitTree(long jobId, TreeVisitor visitor) {
        try {
            JobCursor.forEach(
                    dataSource,
                    "SELECT counter, uuid, parent_uuid, event FROM job_event WHERE job_id = ?" + " ORDER BY counter",
                    jobId,
                    rs -> visitor.visit(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        } catch (SQLException | IOException e) {
            throw new ReadException("reading the event tree of job " + jobId + " failed", e);
        }
    }

    static EventRow row(ResultSet rs) throws SQLException {
        return new EventRow(
                rs.getLong("id"),
                rs.getLong("job_id"),
                rs.getInt("counter"),
                rs.getString("uuid"),
                rs.getString("parent_uuid"),
                rs.getString("event"),
                rs.getString("event_data"),
                rs.getBoolean("failed"),
                rs.getBoolean("changed"),
                rs.getString("playbook"),
                rs.getString("play"),
                rs.getString("role"),
                rs.getString("task"),
                rs.getString("host_name"),
                rs.getString("stdout"),
                rs.getInt("start_line"),
                rs.getInt("end_line"),
                rs.getInt("verbosity"),
                Statements.instant(rs, "created"),
                Statements.instant(rs, "modified"));
    }
}
