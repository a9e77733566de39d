package io.jobstream.postgres;

import io.jobstream.api.ReadException;
import io.jobstream.api.StdoutSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A job's stdout straight from the job_event table, read in pages of {@value #PAGE_ROWS} events by counter (keyset:
 * {@code counter > last}, which the primary key serves without a sort). Each page is read on a pooled connection
 * that goes back to the pool before the page is handed to the sink: a client that downloads slowly holds no
 * connection while it reads, so a few slow downloads cannot starve the API of the pool (a server-side cursor would
 * hold its connection and transaction open for the whole download). Memory: one page of rows. AWX orders by
 * start_line, which every emitter writes in counter order. Thread-safe.
 */
public final class PostgresStdout implements StdoutSource {
    /** Events read per query; like a cursor's fetch size, it bounds what one download holds in memory. */
    static final int PAGE_ROWS = 1000;

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
        int after = 0;
        while (true) {
            List<String> page = new ArrayList<>(PAGE_ROWS);
            try (Connection c = dataSource.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT counter, stdout FROM job_event"
                         + " WHERE job_id = ? AND counter > ? AND stdout <> '' ORDER BY counter LIMIT " + PAGE_ROWS)) {
                ps.setLong(1, jobId);
                ps.setInt(2, after);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        after = rs.getInt(1);
                        page.add(rs.getString(2));
                    }
                }
            } catch (SQLException e) {
                throw new ReadException("reading stdout of job " + jobId + " failed", e);
            }
            for (String stdout : page) sink.accept(stdout); // the connection is back in the pool meanwhile
            if (page.size() < PAGE_ROWS) return;
        }
    }
}
