package io.jobstream.postgres;

import io.jobstream.api.ReadException;
import io.jobstream.api.StdoutSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * A job's stdout straight from the job_event table through a server-side cursor (autocommit off, fetch size
 * {@value JobCursor#FETCH_SIZE}): at most one fetch of rows is in memory however long the job. Ordered by counter, which
 * the primary key serves without a sort; AWX orders by start_line, which every emitter writes in counter order.
 * Thread-safe; each call holds one pooled connection until the last row is handed over.
 */
public final class PostgresStdout implements StdoutSource {

    private final DataSource dataSource;

    public PostgresStdout(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public long length(long jobId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT coalesce(sum(length(stdout)), 0) FROM job_event WHERE job_id = ?")) {
            ps.setLong(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new ReadException("measuring stdout of job " + jobId + " failed", e);
        }
    }

    @Override
    public void copy(long jobId, Sink sink) throws IOException {
        try {
            JobCursor.forEach(dataSource, "SELECT stdout FROM job_event WHERE job_id = ? AND stdout <> '' ORDER BY counter",
                    jobId, rs -> {
                        sink.accept(rs.getString(1));
                        return true;
                    });
        } catch (SQLException e) {
            throw new ReadException("reading stdout of job " + jobId + " failed", e);
        }
    }
}
