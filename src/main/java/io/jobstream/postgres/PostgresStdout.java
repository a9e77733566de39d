package io.jobstream.postgres;

import io.jobstream.api.ReadException;
import io.jobstream.api.StdoutSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A job's stdout straight from the job_event table, read in pages of at most {@value #PAGE_ROWS} events by counter
 * (keyset: {@code counter > last}, which the primary key serves without a sort) and at most {@code pageBytes} of
 * stdout (at least one event): the driver reads a whole result into memory, and 1,000 rows of 2 MB are 2 GB. The cut
 * is made in the server from {@code octet_length}, which PostgreSQL takes from a TOASTed value's header, so rows past
 * it are neither read nor sent. Each page is read on a pooled connection that goes back to the pool before the page
 * is handed to the sink: a client that downloads slowly holds no connection while it reads, so a few slow downloads
 * cannot starve the API of the pool (a server-side cursor would hold its connection and transaction open for the
 * whole download). Memory: one page. AWX orders by start_line, which every emitter writes in counter order.
 * Thread-safe.
 */
public final class PostgresStdout implements StdoutSource {
    /** Events read per query at most; like a cursor's fetch size. */
    static final int PAGE_ROWS = 1000;

    private static final String PAGE = "SELECT counter, stdout, size, created FROM (SELECT counter, stdout, created,"
            + " octet_length(stdout) AS size, sum(octet_length(stdout)) OVER (ORDER BY counter)"
            + " - octet_length(stdout) AS before FROM job_event"
            + " WHERE job_id = ? AND counter > ? AND stdout <> '' ORDER BY counter LIMIT " + PAGE_ROWS + ") page"
            + " WHERE before < ? OR before = 0 ORDER BY counter";

    private final DataSource dataSource;
    private final long pageBytes;

    /** @param pageBytes most stdout bytes read per query (one event more when a single one is larger) */
    public PostgresStdout(DataSource dataSource, long pageBytes) {
        this.dataSource = dataSource;
        this.pageBytes = pageBytes;
    }

    public PostgresStdout(DataSource dataSource) {
        this(dataSource, 4L << 20);
    }

    @Override
    public long length(long jobId) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT coalesce(sum(length(stdout)), 0) FROM job_event WHERE job_id = ?")) {
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
        copyTimed(jobId, (created, stdout) -> sink.accept(stdout));
    }

    @Override
    public void copyTimed(long jobId, TimedSink sink) throws IOException {
        int after = 0;
        while (true) {
            List<String> page = new ArrayList<>();
            List<Instant> times = new ArrayList<>();
            long bytes = 0;
            try (Connection c = dataSource.getConnection();
                    PreparedStatement ps = c.prepareStatement(PAGE)) {
                ps.setLong(1, jobId);
                ps.setInt(2, after);
                ps.setLong(3, pageBytes);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        after = rs.getInt(1);
                        page.add(rs.getString(2));
                        times.add(Statements.instant(rs, "created"));
                        bytes += rs.getLong(3);
                    }
                }
            } catch (SQLException e) {
                throw new ReadException("reading stdout of job " + jobId + " failed", e);
            }
            // the connection is back in the pool meanwhile; each text is let go once written, so a client that
            // stalls mid-page keeps only the rest of the page
            for (int i = 0; i < page.size(); i++) sink.accept(times.get(i), page.set(i, null));
            // the end: a page short of both limits (one cut by size holds at least pageBytes)
            if (page.size() < PAGE_ROWS && bytes < pageBytes) return;
        }
    }
}
