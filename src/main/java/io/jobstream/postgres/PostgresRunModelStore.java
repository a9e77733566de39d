package io.jobstream.postgres;

import io.jobstream.api.ReadException;
import io.jobstream.api.RunModelStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Finished jobs' run models in {@code job_run_model} (V8), one row per job. The save's condition is checked in the
 * same statement as the write, against the job row: a job that took another event, expired or was deleted since its
 * model was read keeps no model (retention sets {@code events_expired} before it deletes the row, so a save racing
 * it either comes first and is deleted, or is refused). Thread-safe; borrows a pooled connection per call.
 */
public final class PostgresRunModelStore implements RunModelStore {
    private static final String FIND =
            "SELECT format, event_rows, max_counter, model FROM job_run_model WHERE job_id = ?";
    private static final String SAVE = "INSERT INTO job_run_model (job_id, format, event_rows, max_counter, model)"
            + " SELECT id, ?, ?, ?, ? FROM job WHERE id = ? AND stored_events = ? AND event_processing_finished"
            + " AND NOT events_expired ON CONFLICT (job_id) DO UPDATE SET format = excluded.format,"
            + " event_rows = excluded.event_rows, max_counter = excluded.max_counter, model = excluded.model,"
            + " saved = now()";

    private final DataSource dataSource;

    public PostgresRunModelStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Optional<Stored> find(long jobId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(FIND)) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return Optional.empty();
                return Optional.of(new Stored(rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getBytes(4)));
            }
        } catch (SQLException e) {
            throw new ReadException("reading the stored run model of job " + jobId + " failed", e);
        }
    }

    @Override
    public boolean save(long jobId, int format, int rows, int maxCounter, byte[] model) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(SAVE)) {
            ps.setInt(1, format);
            ps.setInt(2, rows);
            ps.setInt(3, maxCounter);
            ps.setBytes(4, model);
            ps.setLong(5, jobId);
            ps.setInt(6, rows);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            if ("23503".equals(e.getSQLState())) return false; // the job was deleted between the SELECT and the insert
            throw new ReadException("storing the run model of job " + jobId + " failed", e);
        }
    }
}
