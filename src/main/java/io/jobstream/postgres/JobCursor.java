package io.jobstream.postgres;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Streams the rows of one job's query through a server-side cursor, {@value #FETCH_SIZE} rows per fetch, so a
 * million-event job is read in constant memory. pgjdbc uses a cursor only inside a transaction with a fetch size.
 */
final class JobCursor {
    static final int FETCH_SIZE = 1000;

    /** Handles one row; returns false to stop early. */
    interface Row {
        boolean accept(ResultSet rs) throws SQLException, IOException;
    }

    private JobCursor() {}

    /** Runs {@code sql}, whose only parameter is the job id, and hands each row to {@code row}. */
    static void forEach(DataSource dataSource, String sql, long jobId, Row row) throws SQLException, IOException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setFetchSize(FETCH_SIZE);
                ps.setLong(1, jobId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next() && row.accept(rs)) {
                        // the row handler does the work
                    }
                }
            } finally {
                c.rollback(); // read only: nothing to keep
                c.setAutoCommit(autoCommit);
            }
        }
    }
}
