package io.jobstream.postgres;

import io.jobstream.api.ReadException;
import io.jobstream.broadcast.EventSource;
import io.jobstream.event.JobEvent;
import io.jobstream.event.StoredEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Reads a job's events back by counter for the websocket stage (resume, gap fill, catch-up): a range scan of the
 * {@code (job_id, counter)} primary key in the job's partition. Thread-safe; borrows a pooled connection per call.
 */
public final class PostgresEventSource implements EventSource {
    private static final String SELECT = "SELECT id, job_id, counter, uuid, parent_uuid, event, event_data, stdout,"
            + " start_line, end_line, verbosity, host_name, playbook, play, role, task, failed, changed, created,"
            + " received, modified FROM job_event WHERE job_id = ? AND counter >= ? ORDER BY counter LIMIT ?";

    /**
     * The same page, cut once the rows before one hold {@code maxBytes} of stdout and event_data (the big columns),
     * so that the driver, which reads a whole result into memory, never gets more than that plus one row. The running
     * sum is of {@code octet_length}, which PostgreSQL takes from a TOASTed value's header without reading it, and the
     * cut happens in the server: rows beyond it never cross the wire.
     */
    private static final String SELECT_BYTES = "SELECT * FROM (SELECT id, job_id, counter, uuid, parent_uuid, event,"
            + " event_data, stdout, start_line, end_line, verbosity, host_name, playbook, play, role, task, failed,"
            + " changed, created, received, modified, sum(octet_length(stdout) + octet_length(event_data))"
            + " OVER (ORDER BY counter) - octet_length(stdout) - octet_length(event_data) AS before"
            + " FROM job_event WHERE job_id = ? AND counter >= ? ORDER BY counter LIMIT ?) page"
            + " WHERE before < ? OR before = 0 ORDER BY counter";

    private final DataSource dataSource;

    public PostgresEventSource(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit) {
        return read(SELECT, jobId, fromCounter, limit, null);
    }

    @Override
    public List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit, long maxBytes) {
        return read(SELECT_BYTES, jobId, fromCounter, limit, maxBytes);
    }

    /** Events of a job from a counter on, at most {@code limit} of them (and {@code maxBytes} when not null). */
    private List<StoredEvent> read(String sql, long jobId, int fromCounter, int limit, Long maxBytes) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, jobId);
            ps.setInt(2, fromCounter);
            ps.setInt(3, limit);
            if (maxBytes != null) ps.setLong(4, maxBytes);
            List<StoredEvent> events = new ArrayList<>(Math.min(limit, 1000));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) events.add(stored(rs));
            }
            return events;
        } catch (SQLException e) {
            throw new ReadException("reading events of job " + jobId + " from counter " + fromCounter + " failed", e);
        }
    }

    @Override
    public int lastCounter(long jobId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT coalesce(max(counter), 0) FROM job_event WHERE job_id = ?")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new ReadException("reading the last counter of job " + jobId + " failed", e);
        }
    }

    @Override
    public Map<Long, Integer> lastCounters(Collection<Long> jobIds) {
        Map<Long, Integer> last = new HashMap<>();
        if (jobIds.isEmpty()) return last;
        // one index probe per job (the max of the primary key), in one round trip
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT x,"
                                + " (SELECT coalesce(max(counter), 0) FROM job_event WHERE job_id = x) FROM unnest(?::bigint[]) x")) {
            ps.setArray(1, c.createArrayOf("bigint", jobIds.toArray(Long[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) last.put(rs.getLong(1), rs.getInt(2));
            }
            return last;
        } catch (SQLException e) {
            throw new ReadException("reading the last counters of " + jobIds.size() + " jobs failed", e);
        }
    }

    private static StoredEvent stored(ResultSet rs) throws SQLException {
        JobEvent event = new JobEvent(
                rs.getLong("job_id"),
                rs.getInt("counter"),
                rs.getString("uuid"),
                rs.getString("parent_uuid"),
                rs.getString("event"),
                rs.getString("event_data"),
                rs.getString("stdout"),
                rs.getInt("start_line"),
                rs.getInt("end_line"),
                rs.getInt("verbosity"),
                rs.getString("host_name"),
                rs.getString("playbook"),
                rs.getString("play"),
                rs.getString("role"),
                rs.getString("task"),
                rs.getBoolean("failed"),
                rs.getBoolean("changed"),
                Statements.instant(rs, "created"),
                false,
                Statements.instant(rs, "received"));
        return new StoredEvent(rs.getLong("id"), event, Statements.instant(rs, "modified"));
    }
}
