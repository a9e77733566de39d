package io.jobstream.postgres;

import io.jobstream.api.ReadException;
import io.jobstream.api.RunReader;
import io.jobstream.api.RunRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * Reads a job's run from {@code job_event_index} (V6), the narrow copy of its events, by primary key in counter
 * order, through a cursor of {@value #FETCH_SIZE} rows. Times are stored as epoch microseconds (no timestamp conversion per
 * row), and the few distinct event names and host names of a job are shared instead of allocated per row.
 * Thread-safe; borrows a pooled connection per call.
 */
public final class PostgresRunReader implements RunReader {
    static final int FETCH_SIZE = 20_000;
    private static final String ROWS = "SELECT counter, event, host_name, task_uuid, play, task, changed, failed,"
            + " created_us FROM job_event_index WHERE job_id = ? AND counter > ? ORDER BY counter";
    private static final String STATS = "SELECT created, event_data FROM job_event WHERE job_id = ? AND counter ="
            + " (SELECT max(counter) FROM job_event_index WHERE event = 'playbook_on_stats' AND job_id = ?)";

    private final DataSource dataSource;

    public PostgresRunReader(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public void visit(long jobId, int after, Consumer<RunRow> visitor) {
        Map<String, String> shared = new HashMap<>();
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false); // pgjdbc uses a cursor only inside a transaction
            try (PreparedStatement ps = c.prepareStatement(ROWS)) {
                ps.setFetchSize(FETCH_SIZE);
                ps.setLong(1, jobId);
                ps.setInt(2, after);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        visitor.accept(new RunRow(
                                rs.getInt(1),
                                share(shared, rs.getString(2)),
                                share(shared, rs.getString(3)),
                                rs.getString(4),
                                rs.getString(5),
                                rs.getString(6),
                                rs.getBoolean(7),
                                rs.getBoolean(8),
                                rs.getLong(9)));
                    }
                }
            } finally {
                c.rollback(); // read only
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new ReadException("reading the run of job " + jobId + " failed", e);
        }
    }

    private static String share(Map<String, String> shared, String s) {
        if (shared.size() > 100_000) return s; // a job of more hosts than that: stop remembering
        String known = shared.putIfAbsent(s, s);
        return known == null ? s : known;
    }

    @Override
    public Optional<Stats> stats(long jobId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(STATS)) {
            ps.setLong(1, jobId);
            ps.setLong(2, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Stats(Statements.instant(rs, "created"), rs.getString("event_data")));
            }
        } catch (SQLException e) {
            throw new ReadException("reading the stats of job " + jobId + " failed", e);
        }
    }
}
