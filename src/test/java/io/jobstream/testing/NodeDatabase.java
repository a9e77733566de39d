package io.jobstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * SQL on a running test node's embedded database, as the node's own role: for a test that must set up what only time
 * makes (a job finished long ago) or look at rows the API does not show. The port is the 4th line of
 * {@code pg/postmaster.pid}, the password in {@code database-password}.
 */
public final class NodeDatabase {
    private NodeDatabase() {}

    public static Connection connect(Path dataDir) throws IOException, SQLException {
        int port = Integer.parseInt(Files.readAllLines(dataDir.resolve("pg").resolve("postmaster.pid"))
                .get(3)
                .trim());
        String password = Files.readString(dataDir.resolve("database-password")).trim();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "jobstream", password);
    }

    /** Runs one statement: the first column of the first row of a query (-1 when none), else the update count. */
    public static long sql(Path dataDir, String statement) throws IOException, SQLException {
        try (Connection c = connect(dataDir);
                Statement s = c.createStatement()) {
            if (s.execute(statement)) {
                try (ResultSet rs = s.getResultSet()) {
                    return rs.next() ? rs.getLong(1) : -1;
                }
            }
            return s.getUpdateCount();
        }
    }
}
