package io.jobstream.postgres;

import io.jobstream.event.CaptureLevel;
import io.jobstream.job.JobRegistry;
import io.jobstream.job.LaunchedJobStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Creates job rows with ids from {@code job_id_seq} ({@link JobIds}: skipping ids a trusted emitter already used), and
 * writes the status of launched jobs (each statement its own transaction; the receiver's row lock orders them
 * with event bookkeeping).
 */
public final class PostgresJobRegistry implements JobRegistry, LaunchedJobStore {
    /** The statuses of a job that has not ended, as SQL. */
    private static final String UNFINISHED = "('new', 'pending', 'waiting', 'running')";
    /** What {@link #unfinished(ResultSet)} reads, in its order. */
    private static final String UNFINISHED_COLUMNS = "id, status, execution_node, cancel_flag";

    private final DataSource dataSource;
    private final String nodeName;

    /** @param nodeName this node's name, kept on the jobs it launches ({@code execution_node}) */
    public PostgresJobRegistry(DataSource dataSource, String nodeName) {
        this.dataSource = dataSource;
        this.nodeName = nodeName;
    }

    @Override
    public long create(String name, String playbook) {
        return insert(name, playbook, false, null);
    }

    @Override
    public long createLaunched(String name, String playbook, Long ownerId, Long teamId, CaptureLevel capture) {
        long id = insert(name, playbook, true, ownerId);
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("UPDATE job SET capture = ?, execution_node = ? WHERE id = ?")) {
            ps.setString(1, capture.wire());
            ps.setString(2, nodeName);
            ps.setLong(3, id);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot set the capture level and node of job " + id + ": " + e.getMessage(), e);
        }
        if (teamId != null) {
            try (Connection c = dataSource.getConnection();
                    PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO job_team (job_id, team_id) VALUES (?, ?)" + " ON CONFLICT DO NOTHING")) {
                ps.setLong(1, id);
                ps.setLong(2, teamId);
                ps.executeUpdate();
            } catch (SQLException e) {
                throw new IllegalStateException(
                        "cannot share job " + id + " with team " + teamId + ": " + e.getMessage(), e);
            }
        }
        return id;
    }

    @Override
    public void started(long jobId) {
        update(
                jobId,
                "UPDATE job SET status = 'running', started = COALESCE(started, now()), modified = now()"
                        + " WHERE id = ? AND status IN ('new', 'pending', 'waiting')");
    }

    @Override
    public boolean finished(long jobId, String status, String explanation) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("UPDATE job SET status = ?, failed = failed OR ?,"
                        + " job_explanation = ?, started = COALESCE(started, now()), finished = now(), modified = now()"
                        + " WHERE id = ? AND status IN " + UNFINISHED)) {
            ps.setString(1, status);
            ps.setBoolean(2, status.equals("failed") || status.equals("error"));
            ps.setString(3, explanation);
            ps.setLong(4, jobId);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot finish job " + jobId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Events events(long jobId) {
        try (Connection c = dataSource.getConnection();
                // the job id as a parameter in both places, so that only its partition of job_event is read
                PreparedStatement ps = c.prepareStatement(
                        "SELECT j.final_counter,"
                                + " (SELECT coalesce(max(e.counter), 0) FROM job_event e WHERE e.job_id = ?) FROM job j WHERE j.id = ?")) {
            ps.setLong(1, jobId);
            ps.setLong(2, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return new Events(null, 0);
                int finalCounter = rs.getInt(1);
                return new Events(rs.wasNull() ? null : finalCounter, rs.getLong(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the events of job " + jobId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<Unfinished> unfinished() {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT " + UNFINISHED_COLUMNS + " FROM job"
                        + " WHERE launched AND status IN " + UNFINISHED + " ORDER BY id")) {
            List<Unfinished> jobs = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) jobs.add(unfinished(rs));
            }
            return jobs;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot list unfinished launched jobs: " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Unfinished> requestCancel(long jobId, String exceptNode) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("UPDATE job SET cancel_flag = true, modified = now()"
                        + " WHERE id = ? AND launched AND status IN " + UNFINISHED + " AND execution_node <> ?"
                        + " RETURNING " + UNFINISHED_COLUMNS)) {
            ps.setLong(1, jobId);
            ps.setString(2, exceptNode);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(unfinished(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot ask to cancel job " + jobId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Unfinished> markLost(long jobId, String node) {
        try (Connection c = dataSource.getConnection();
                // the row as it was: whether a user had asked for a cancel decides the final status
                PreparedStatement ps = c.prepareStatement("UPDATE job j SET cancel_flag = true, modified = now()"
                        + " FROM (SELECT id, cancel_flag FROM job WHERE id = ? FOR UPDATE) was WHERE j.id = was.id"
                        + " AND j.launched AND j.status IN " + UNFINISHED + " AND j.execution_node = ?"
                        + " RETURNING j.id, j.status, j.execution_node, was.cancel_flag")) {
            ps.setLong(1, jobId);
            ps.setString(2, node);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(unfinished(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot mark job " + jobId + " as lost: " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<Unfinished> unfinished(long jobId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT " + UNFINISHED_COLUMNS + " FROM job"
                        + " WHERE id = ? AND launched AND status IN " + UNFINISHED)) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(unfinished(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read job " + jobId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<Long> cancelRequested(Collection<Long> jobIds) {
        if (jobIds.isEmpty()) return List.of();
        try (Connection c = dataSource.getConnection();
                // by id, final or not: a run this node still has is canceled even if another node ended its row
                PreparedStatement ps =
                        c.prepareStatement("SELECT id FROM job WHERE id = ANY(?) AND cancel_flag ORDER BY id")) {
            ps.setArray(1, c.createArrayOf("bigint", jobIds.toArray()));
            List<Long> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) ids.add(rs.getLong(1));
            }
            return ids;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read cancel requests: " + e.getMessage(), e);
        }
    }

    private static Unfinished unfinished(ResultSet rs) throws SQLException {
        return new Unfinished(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBoolean(4));
    }

    private void update(long jobId, String sql) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, jobId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot update job " + jobId + ": " + e.getMessage(), e);
        }
    }

    private long insert(String name, String playbook, boolean launched, Long ownerId) {
        try (Connection c = dataSource.getConnection()) {
            return JobIds.allocate(c, name, playbook, "pending", launched, ownerId);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create job: " + e.getMessage(), e);
        }
    }
}
