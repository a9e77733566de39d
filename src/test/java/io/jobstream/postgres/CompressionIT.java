package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.testing.DebianPostgres;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.Trees;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * V10: job_event's large values are compressed with lz4 on a server that has it (Debian's PostgreSQL), in partitions
 * made before the migration and after it, and stay pglz on one without (the embedded server); stored and read back
 * the same either way.
 */
class CompressionIT {
    @Test
    void aServerWithLz4CompressesNewValuesWithItInOldAndNewPartitions() throws Exception {
        Path dir = TempDirs.make("jobstream-lz4");
        try (DebianPostgres pg = DebianPostgres.start(dir.resolve("pg"))) {
            Database db = Database.fromUrl(pg.url(), 2);
            // the schema before V10, with a partition that already exists when V10 runs
            try (HikariDataSource ds = new HikariDataSource(Database.pool(pg.url()))) {
                Flyway.configure()
                        .dataSource(ds)
                        .locations("classpath:db/migration")
                        .target("9")
                        .load()
                        .migrate();
                try (Connection c = ds.getConnection();
                        Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE job_event_p1 PARTITION OF job_event FOR VALUES FROM (1000) TO (2000)");
                }
            }
            db.start(); // migrates the rest: V10
            try {
                List<String> big = store(db.dataSource(), 1001, 7001); // an old partition and a new one
                assertThat(compressions(db.dataSource())).containsOnly("lz4");
                assertThat(readBack(db.dataSource())).isEqualTo(big);
            } finally {
                db.close();
            }
        } finally {
            Trees.delete(dir);
        }
    }

    @Test
    void aServerWithoutLz4KeepsPglz() throws Exception {
        Path dir = TempDirs.make("jobstream-pglz");
        EmbeddedDatabase embedded = new EmbeddedDatabase(dir, RunningServer.PG_BINARIES);
        try {
            Database db = Database.fromUrl(embedded.start(), 2);
            db.start();
            try {
                List<String> big = store(db.dataSource(), 1001, 7001);
                assertThat(compressions(db.dataSource())).containsOnly("pglz");
                assertThat(readBack(db.dataSource())).isEqualTo(big);
            } finally {
                db.close();
            }
        } finally {
            embedded.close();
            Trees.delete(dir);
        }
    }

    /** Stores one event with a large, compressible event_data and stdout in each job; returns the stdouts. */
    private static List<String> store(DataSource ds, long... jobs) {
        PostgresEventStore store = new PostgresEventStore(ds, Clock.systemUTC());
        List<JobMessage> batch = new ArrayList<>();
        List<String> stdouts = new ArrayList<>();
        for (long job : jobs) {
            String stdout = ("ok: [web-" + job + "] => changed line of module output\n").repeat(400);
            String data = "{\"res\": {\"stdout\": \"" + "x".repeat(20_000) + "\"}}";
            stdouts.add(stdout);
            batch.add(new JobEvent(
                    job,
                    1,
                    "u-" + job,
                    "",
                    "runner_on_ok",
                    data,
                    stdout,
                    0,
                    400,
                    0,
                    "web",
                    "site.yml",
                    "all",
                    "",
                    "t",
                    false,
                    true,
                    Instant.now(),
                    true,
                    Instant.now()));
        }
        assertThat(store.write(batch).outcomes()).hasSize(jobs.length);
        return stdouts;
    }

    private static List<String> compressions(DataSource ds) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_column_compression(event_data), pg_column_compression(stdout)"
                        + " FROM job_event ORDER BY job_id")) {
            while (rs.next()) {
                out.add(rs.getString(1));
                out.add(rs.getString(2));
            }
        }
        assertThat(out).hasSize(4);
        return out;
    }

    private static List<String> readBack(DataSource ds) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT stdout FROM job_event ORDER BY job_id")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }
}
