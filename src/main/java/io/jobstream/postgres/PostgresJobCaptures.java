package io.jobstream.postgres;

import io.jobstream.event.CaptureLevel;
import io.jobstream.ingest.JobCaptures;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/** Writes a job's capture level and adds what the level dropped to its counts; one batch per ingest request. */
public final class PostgresJobCaptures implements JobCaptures {
    private final DataSource dataSource;

    public PostgresJobCaptures(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public void record(CaptureLevel level, Map<Long, Dropped> perJob) {
        if (perJob.isEmpty()) return;
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("UPDATE job SET capture = ?,"
                        + " capture_dropped_events = capture_dropped_events + ?,"
                        + " capture_dropped_bytes = capture_dropped_bytes + ? WHERE id = ?")) {
            // in id order, so that two requests updating the same jobs cannot deadlock
            for (Map.Entry<Long, Dropped> e : new TreeMap<>(perJob).entrySet()) {
                ps.setString(1, level.wire());
                ps.setLong(2, e.getValue().events());
                ps.setLong(3, e.getValue().bytes());
                ps.setLong(4, e.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record capture counts: " + e.getMessage(), e);
        }
    }
}
