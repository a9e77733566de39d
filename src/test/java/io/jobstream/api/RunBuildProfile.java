package io.jobstream.api;

import io.jobstream.postgres.Database;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.postgres.PostgresRunReader;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Where a run model's build goes (issue 19, the first timeline request of a job): a job of {@code hosts × tasks} is
 * written straight into {@code job_event_index} with SQL in the synthetic run's shape (a task start, a
 * runner_on_start and a result per host, 36-character uuids), then timed apart: PostgreSQL executing the query
 * (EXPLAIN ANALYZE), the rows through JDBC without a model, the reader with an empty visitor, the reader building
 * the model, and the model built from rows already in memory; what the built model holds on the heap; and its stored
 * form ({@link RunModelCodec}: size, encode, decode, the blob read back from PostgreSQL). Run by
 * {@code bench/analysis-build [hosts=1000] [tasks=200] [rounds=5]}.
 */
public final class RunBuildProfile {
    public static void main(String[] args) throws Exception {
        int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int tasks = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path dir = TempDirs.make("jobstream-build");
        try (EmbeddedDatabase pg = new EmbeddedDatabase(dir.resolve("pg"), RunningServer.PG_BINARIES)) {
            String url = pg.start();
            try (Database db = Database.fromUrl(url, 2)) {
                db.start();
                DataSource ds = db.dataSource();
                long job = 1;
                int rows = load(ds, job, hosts, tasks);
                System.out.printf("job of %,d hosts x %,d tasks: %,d index rows%n", hosts, tasks, rows);
                explain(ds, job);
                PostgresRunReader reader = new PostgresRunReader(ds);
                List<RunRow> held = new ArrayList<>(rows);
                reader.visit(job, 0, held::add);
                time("JDBC rows, getters only, no RunRow", rounds, () -> jdbcOnly(ds, job));
                for (String format : new String[] {"binary", "text"}) {
                    time("raw COPY " + format + " to a discarding stream", rounds, () -> {
                        try (Connection c = ds.getConnection()) {
                            long n = c.unwrap(org.postgresql.PGConnection.class)
                                    .getCopyAPI()
                                    .copyOut(
                                            "COPY (SELECT counter, event, host_name, task_uuid, play, task, changed,"
                                                    + " failed, created_us FROM job_event_index WHERE job_id = " + job
                                                    + " AND counter > 0 ORDER BY counter) TO STDOUT (FORMAT " + format
                                                    + ")",
                                            java.io.OutputStream.nullOutputStream());
                            return (int) n;
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
                // before and after in alternating rounds, so that the shared machine's load falls on both alike
                List<Double> cursor = new ArrayList<>();
                List<Double> copy = new ArrayList<>();
                for (int i = 0; i < rounds * 2; i++) {
                    RunModel m = new RunModel();
                    long t = System.nanoTime();
                    if (i % 2 == 0) cursorRead(ds, job, m);
                    else reader.visit(job, 0, m);
                    (i % 2 == 0 ? cursor : copy).add((System.nanoTime() - t) / 1e6);
                }
                report("before: cursor of text rows + RunModel", cursor);
                report("after: binary COPY reader + RunModel", copy);
                time("RunModel from rows in memory (Java only)", rounds, () -> {
                    RunModel m = new RunModel();
                    held.forEach(m);
                    return m.rows();
                });
                held.clear();
                Runtime rt = Runtime.getRuntime();
                gc();
                long before = rt.totalMemory() - rt.freeMemory();
                RunModel m = new RunModel();
                reader.visit(job, 0, m);
                gc();
                long after = rt.totalMemory() - rt.freeMemory();
                System.out.printf(
                        "model on the heap: %,d bytes for %,d tasks and host results (%.0f bytes each)%n",
                        after - before, m.size(), (after - before) / (double) m.size());
                System.out.println(m.rows()); // keep it reachable
                // the stored form (session 9, job_run_model): encode, decode, and the blob through PostgreSQL
                byte[] blob = RunModelCodec.encode(m);
                System.out.printf(
                        "stored model: %,d bytes (%.1f per task and host result)%n",
                        blob.length, blob.length / (double) m.size());
                time("RunModelCodec.encode", rounds, () -> RunModelCodec.encode(m).length);
                time("RunModelCodec.decode", rounds, () -> {
                    try {
                        return RunModelCodec.decode(blob).rows();
                    } catch (RunModelCodec.Unreadable e) {
                        throw new IllegalStateException(e);
                    }
                });
                try (Connection c = ds.getConnection();
                        Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE blob_probe (id int PRIMARY KEY, b bytea NOT NULL)");
                    st.execute("ALTER TABLE blob_probe ALTER COLUMN b SET STORAGE EXTERNAL");
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO blob_probe VALUES (1, ?)")) {
                        ps.setBytes(1, blob);
                        ps.executeUpdate();
                    }
                }
                time("the blob read from PostgreSQL (one row, bytea)", rounds, () -> {
                    try (Connection c = ds.getConnection();
                            PreparedStatement ps = c.prepareStatement("SELECT b FROM blob_probe WHERE id = 1");
                            ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getBytes(1).length;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
        }
    }

    private static void gc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
    }

    /** The synthetic run's rows, in the shape the receiver's index COPY writes them. */
    private static int load(DataSource ds, long job, int hosts, int tasks) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            // per task: counter base 2 + t * (2 * hosts + 1); the start, then runner_on_start per host, then results
            int per = 2 * hosts + 1;
            s.execute("INSERT INTO job_event_index SELECT " + job + ", 3 + t * " + per
                    + ", 'playbook_on_task_start', '', md5('task' || t)::uuid::text, 'PLAY [all]', 'task ' || (t + 1),"
                    + " false, false, 1767261600000000 + (t + 1) * 10000000 FROM generate_series(0, " + (tasks - 1)
                    + ") t");
            s.execute("INSERT INTO job_event_index SELECT " + job + ", 4 + t * " + per
                    + " + h, 'runner_on_start', 'host' || lpad((h + 1)::text, 4, '0'), md5('task' || t)::uuid::text,"
                    + " '', '', false, false, 1767261600000000 + (t + 1) * 10000000 + (h % 100) * 1000"
                    + " FROM generate_series(0, " + (tasks - 1) + ") t, generate_series(0, " + (hosts - 1) + ") h");
            s.execute("INSERT INTO job_event_index SELECT " + job + ", 4 + t * " + per + " + " + hosts
                    + " + h, CASE WHEN h % 97 = t % 89 THEN 'runner_on_failed' WHEN t % 11 = 0 THEN"
                    + " 'runner_on_skipped' ELSE 'runner_on_ok' END, 'host' || lpad((h + 1)::text, 4, '0'),"
                    + " md5('task' || t)::uuid::text, '', '', (h + t) % 7 = 0 AND h % 97 <> t % 89, h % 97 = t % 89,"
                    + " 1767261600000000 + (t + 1) * 10000000 + (h % 100) * 1000 + (200 + (h * 31 + t * 17) % 900)"
                    + " * 1000 FROM generate_series(0, " + (tasks - 1) + ") t, generate_series(0, " + (hosts - 1)
                    + ") h");
            s.execute("INSERT INTO job_event_index VALUES (" + job + ", " + (3 + tasks * per)
                    + ", 'playbook_on_stats', '', '', '', '', false, false, 1767261600000000)");
            s.execute("VACUUM ANALYZE job_event_index");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM job_event_index WHERE job_id = " + job)) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static void explain(DataSource ds, long job) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            for (int i = 0; i < 2; i++) { // the second is warm (shared buffers)
                try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, BUFFERS) SELECT counter, event, host_name,"
                        + " task_uuid, play, task, changed, failed, created_us FROM job_event_index WHERE job_id = "
                        + job + " AND counter > 0 ORDER BY counter")) {
                    while (rs.next()) if (i == 1) System.out.println("  " + rs.getString(1));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT pg_size_pretty(pg_total_relation_size('job_event_index')),"
                    + " pg_size_pretty(pg_relation_size('job_event_index'))")) {
                rs.next();
                System.out.println("  table+indexes " + rs.getString(1) + ", heap " + rs.getString(2));
            }
        }
    }

    /** The reader before binary COPY (session 7): a cursor of 20,000 text rows, event and host names shared. */
    private static void cursorRead(DataSource ds, long job, java.util.function.Consumer<RunRow> visitor) {
        java.util.Map<String, String> shared = new java.util.HashMap<>();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT counter, event, host_name, task_uuid, play, task,"
                    + " changed, failed, created_us FROM job_event_index WHERE job_id = ? AND counter > ? ORDER BY"
                    + " counter")) {
                ps.setFetchSize(20_000);
                ps.setLong(1, job);
                ps.setInt(2, 0);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String e = rs.getString(2);
                        String h = rs.getString(3);
                        String known = shared.putIfAbsent(e, e);
                        e = known == null ? e : known;
                        known = shared.putIfAbsent(h, h);
                        h = known == null ? h : known;
                        visitor.accept(new RunRow(
                                rs.getInt(1),
                                e,
                                h,
                                rs.getString(4),
                                rs.getString(5),
                                rs.getString(6),
                                rs.getBoolean(7),
                                rs.getBoolean(8),
                                rs.getLong(9)));
                    }
                }
                c.rollback();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int jdbcOnly(DataSource ds, long job) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT counter, event, host_name, task_uuid, play, task,"
                    + " changed, failed, created_us FROM job_event_index WHERE job_id = ? AND counter > ? ORDER BY"
                    + " counter")) {
                ps.setFetchSize(20_000);
                ps.setLong(1, job);
                ps.setInt(2, 0);
                int n = 0;
                long sum = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n++;
                        sum += rs.getInt(1)
                                + rs.getString(2).length()
                                + rs.getString(3).length()
                                + rs.getString(4).length()
                                + rs.getString(5).length()
                                + rs.getString(6).length()
                                + (rs.getBoolean(7) ? 1 : 0)
                                + (rs.getBoolean(8) ? 1 : 0)
                                + rs.getLong(9);
                    }
                }
                c.rollback();
                return n + (int) (sum & 0);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void report(String what, List<Double> ms) {
        List<Double> sorted = new ArrayList<>(ms);
        Collections.sort(sorted);
        System.out.printf(
                "%-48s first %6.0f ms, median %6.0f ms, min %6.0f ms (%d rounds, alternating)%n",
                what, ms.get(0), sorted.get(sorted.size() / 2), sorted.get(0), ms.size());
    }

    private static void time(String what, int rounds, Supplier<Integer> run) {
        List<Double> ms = new ArrayList<>();
        int n = 0;
        for (int i = 0; i < rounds; i++) {
            long t = System.nanoTime();
            n = run.get();
            ms.add((System.nanoTime() - t) / 1e6);
        }
        List<Double> sorted = new ArrayList<>(ms);
        Collections.sort(sorted);
        System.out.printf(
                "%-48s first %6.0f ms, median %6.0f ms, min %6.0f ms (%,d rows)%n",
                what, ms.get(0), sorted.get(sorted.size() / 2), sorted.get(0), n);
    }
}
