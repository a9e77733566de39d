package io.jobstream.postgres;

import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.Framing;
import io.jobstream.event.JobEvent;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SyntheticRun;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.Trees;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * Issue 19's measurements (run by {@code bench/analysis}), on a real node whose PostgreSQL (embedded binaries,
 * fsync on) was started apart so that the benchmark can also load it directly:
 * <ol>
 *   <li>the ingest cost of {@code job_event_index}: the same batches of 1,000 plugin-shaped events (about 1 KB each)
 *       committed with the job_event COPY alone and with the index COPY too, in alternating rounds;</li>
 *   <li>a job of 1,000 hosts × 200 tasks (and a second run of it) posted through HTTP ingest, then the timeline,
 *       host summaries and compare served over HTTP: median and slowest of several requests, body size;</li>
 *   <li>the cross-job search over N stored events (argument, default 2,000,000) in 400 jobs spread over 20
 *       partitions, loaded with SQL, as an admin and as a user who sees one job in ten.</li>
 * </ol>
 * Arguments: [search-events=2000000] [hosts=1000 (0: the search only)] [tasks=200].
 */
public final class AnalysisBenchmark {
    private static final int RUNS = 7;

    public static void main(String[] args) throws Exception {
        long searchEvents = args.length > 0 ? Long.parseLong(args[0]) : 2_000_000;
        int hosts = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int tasks = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        Path dir = Files.createTempDirectory("jobstream-analysis");
        try (EmbeddedDatabase pg = new EmbeddedDatabase(dir.resolve("pg"), RunningServer.PG_BINARIES)) {
            String url = pg.start();
            // stopped by a signal (a timeout around the command), its PostgreSQL must not outlive it
            Thread stop = new Thread(pg::close);
            Runtime.getRuntime().addShutdownHook(stop);
            try (RunningServer node = RunningServer.start(dir.resolve("node"), Map.of("database-url", url));
                    Database db = Database.fromUrl(url, 4)) {
                db.start();
                if (hosts > 0) { // hosts=0: the search alone
                    ingestCost(db.dataSource());
                    analysis(node, hosts, tasks);
                }
                search(node, db.dataSource(), searchEvents);
            }
            Runtime.getRuntime().removeShutdownHook(stop);
        } finally {
            Trees.delete(dir); // 10,000,000 search events take ~7 GB
        }
    }

    // -- 1. ingest cost ------------------------------------------------------------------------------------

    private static final String[] SECONDARY = {
        "job_event_index_host_idx ON job_event_index (hashtext(host_name), job_id, counter) WHERE host_name <> ''",
        "job_event_index_rare_event_idx ON job_event_index (event, job_id, counter) WHERE "
                + PostgresEventSearch.RARE_EVENT.replace("i.event", "event"),
        "job_event_index_changed_idx ON job_event_index (job_id, counter) WHERE changed",
        "job_event_index_failed_idx ON job_event_index (job_id, counter) WHERE failed",
        "job_event_index_host_changed_idx ON job_event_index (hashtext(host_name), job_id, counter)"
                + " WHERE changed AND host_name <> ''"
    };

    /**
     * Rounds of the same events in three modes, in turn: the job_event COPY alone; with the job_event_index COPY and
     * all its indexes (what the node does); with the index table's primary key only (its secondary indexes dropped
     * for those rounds), to tell the row's cost from the search indexes' cost.
     */
    private static void ingestCost(DataSource ds) throws SQLException {
        EventDecoder decoder = new EventDecoder(2 << 20, Clock.systemUTC());
        EventCopy copy = new EventCopy();
        EventIndexCopy index = new EventIndexCopy();
        Partitions partitions = new Partitions();
        IdBlocks ids = new IdBlocks();
        List<List<Double>> rates = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        long bytes = 0;
        int events = 0;
        for (int round = 0; round < 15; round++) {
            long job = 800_000 + round;
            SyntheticRun run = new SyntheticRun(job, 250, 100);
            run.resultBytes = 700;
            run.start = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MILLIS);
            List<JobEvent> all = new ArrayList<>();
            List<String> lines = run.lines();
            for (String l : lines.subList(0, lines.size() - 1)) { // no EOF
                bytes += round == 0 ? l.length() : 0;
                for (Decoded d : decoder.decodeBody(l.getBytes(StandardCharsets.UTF_8), Framing.NDJSON))
                    all.add((JobEvent) ((Decoded.Ok) d).message());
            }
            if (round == 0) events = all.size();
            int mode = round % 3; // 0 plain, 1 indexed, 2 primary key only
            try (Connection c = ds.getConnection();
                    Statement s = c.createStatement()) {
                for (String def : SECONDARY) {
                    String name = def.substring(0, def.indexOf(' '));
                    s.execute(mode == 2 ? "DROP INDEX IF EXISTS " + name : "CREATE INDEX IF NOT EXISTS " + def);
                }
                partitions.ensure(c, List.of(job));
                long t = System.nanoTime();
                for (int from = 0; from < all.size(); from += 1000) {
                    List<JobEvent> batch = all.subList(from, Math.min(all.size(), from + 1000));
                    long[] rowIds = new long[batch.size()];
                    ids.fill(c, rowIds);
                    c.setAutoCommit(false);
                    Instant modified = Instant.now().truncatedTo(ChronoUnit.MICROS);
                    copy.copyAll(c, batch, rowIds, modified);
                    if (mode > 0) index.copy(c, batch, null);
                    c.commit();
                    c.setAutoCommit(true);
                }
                rates.get(mode).add(all.size() / ((System.nanoTime() - t) / 1e9));
            }
        }
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            for (String def : SECONDARY) s.execute("CREATE INDEX IF NOT EXISTS " + def);
        }
        System.out.printf(
                "%n## ingest cost of job_event_index (%,d events of %.0f B average, batches of 1,000, one transaction"
                        + " each, 5 rounds per mode in turn, median)%n",
                events, (double) bytes / events);
        System.out.println(
                "| job_event COPY only | + job_event_index, all indexes | + job_event_index, primary key only |");
        System.out.println("|---|---|---|");
        double p = median(rates.get(0)), i = median(rates.get(1)), k = median(rates.get(2));
        System.out.printf(
                "| %,.0f events/s | %,.0f events/s (%.0f %% more time) | %,.0f events/s (%.0f %% more time) |%n",
                p, i, (p / i - 1) * 100, k, (p / k - 1) * 100);
        System.out.println("rounds (events/s): " + rates);
    }

    // -- 2. timeline, host summaries, compare ----------------------------------------------------------------

    private static void analysis(RunningServer node, int hosts, int tasks) {
        long a = 1001, b = 1002;
        Instant start = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        SyntheticRun ra = new SyntheticRun(a, hosts, tasks);
        ra.start = start;
        ra.taskSpacing = Duration.ofSeconds(5);
        ra.duration = (h, t) -> Duration.ofMillis(200 + (h * 7L + t * 13L) % 900 + (h == 17 && t == 42 ? 8000 : 0));
        ra.status = (h, t) ->
                (h + t) % 17 == 0 ? "changed" : (h * t) % 101 == 3 ? "failed" : t % 50 == 7 ? "skipped" : "ok";
        ra.resultBytes = 300;
        SyntheticRun rb = new SyntheticRun(b, hosts, tasks);
        rb.start = start.plus(Duration.ofMinutes(20));
        rb.taskSpacing = ra.taskSpacing;
        rb.duration = ra.duration;
        rb.status = (h, t) ->
                (h + t) % 19 == 0 ? "changed" : (h * t) % 101 == 3 ? "failed" : t % 50 == 7 ? "skipped" : "ok";
        rb.resultBytes = 300;
        System.out.printf("%n## timeline, host summaries, compare: %,d hosts x %d tasks%n", hosts, tasks);
        for (SyntheticRun r : List.of(ra, rb)) {
            List<String> lines = r.lines();
            long t = System.nanoTime();
            for (int from = 0; from < lines.size(); from += 2000) {
                HttpResponse<String> reply = Http.post(
                        node.uri("/api/v2/job_events/ingest/"),
                        String.join("\n", lines.subList(from, Math.min(lines.size(), from + 2000))));
                if (reply.statusCode() != 200) throw new IllegalStateException(reply.body());
            }
            System.out.printf(
                    "ingested job %d: %,d events through HTTP in %.1f s%n",
                    r.job, lines.size(), (System.nanoTime() - t) / 1e9);
        }
        System.out.println("\n| request | first (ms) | median (ms) | slowest (ms) | body |");
        System.out.println("|---|---|---|---|---|");
        time(node, "/api/v2/jobs/" + a + "/timeline/?page_size=200", "timeline, all 200 tasks with every host");
        time(node, "/api/v2/jobs/" + a + "/timeline/", "timeline, first page (25 tasks with every host)");
        time(
                node,
                "/api/v2/jobs/" + a + "/timeline/?hosts=0&order_by=-duration&page_size=200",
                "timeline, slowest tasks first, no hosts");
        time(node, "/api/v2/jobs/" + a + "/job_host_summaries/", "job_host_summaries, first page (stats event)");
        time(
                node,
                "/api/v2/jobs/" + a + "/job_host_summaries/?page_size=200&page=5",
                "job_host_summaries, page 5 of 200");
        time(node, "/api/v2/jobs/" + a + "/compare/" + b + "/", "compare of the two runs");
    }

    private static void time(RunningServer node, String path, String what) {
        time(() -> Http.get(node.uri(path)), what);
    }

    private static void time(Supplier<HttpResponse<String>> request, String what) {
        double[] ms = new double[RUNS];
        int size = 0;
        double first = 0;
        for (int i = -2; i < RUNS; i++) { // two warm-ups; the first request is reported on its own
            long t = System.nanoTime();
            HttpResponse<String> r = request.get();
            double elapsed = (System.nanoTime() - t) / 1e6;
            if (r.statusCode() != 200) throw new IllegalStateException(what + ": " + r.statusCode() + " " + r.body());
            size = r.body().getBytes(StandardCharsets.UTF_8).length;
            if (i == -2) first = elapsed;
            if (i >= 0) ms[i] = elapsed;
        }
        Arrays.sort(ms);
        System.out.printf("| %s | %.1f | %.1f | %.1f | %,d B |%n", what, first, ms[RUNS / 2], ms[RUNS - 1], size);
    }

    // -- 3. search --------------------------------------------------------------------------------------------

    private static void search(RunningServer node, DataSource ds, long events) throws SQLException {
        int jobs = 400;
        long perJob = events / jobs;
        HttpResponse<String> user = Http.postJson(
                node.uri("/api/v2/users/"), "{\"username\":\"carol\",\"password\":\"carol-pw\"}", TestUsers.ADMIN_AUTH);
        if (user.statusCode() != 201) throw new IllegalStateException(user.body());
        long carol = Http.json(user.body()).path("id").asLong();
        String carolAuth = TestUsers.basic("carol", "carol-pw");
        long t = System.nanoTime();
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            for (int p = 100; p < 120; p++) {
                s.execute("CREATE TABLE IF NOT EXISTS job_event_p" + p + " PARTITION OF job_event FOR VALUES FROM ("
                        + p * 1000 + ") TO (" + (p + 1) * 1000 + ")");
            }
            // jobs 100000, 100050, ... : 400 jobs over 20 partitions; carol owns every tenth
            s.execute(
                    "INSERT INTO job (id, name, status, owner_id) SELECT 100000 + g * 50, 'search ' || g, 'successful',"
                            + " CASE WHEN g % 10 = 0 THEN " + carol + " END FROM generate_series(0, " + (jobs - 1)
                            + ") g");
            // host events: host = counter % 1000, 5 % changed, 1 % failed, one stats event last
            String rows = "SELECT 100000 + j * 50 AS job_id, c AS counter,"
                    + " CASE WHEN c = " + perJob + " THEN 'playbook_on_stats' WHEN c % 100 = 7 THEN 'runner_on_failed'"
                    + " WHEN c % 2 = 0 THEN 'runner_on_start' ELSE 'runner_on_ok' END AS event,"
                    + " CASE WHEN c = " + perJob
                    + " THEN '' ELSE 'host' || lpad((c % 1000)::text, 4, '0') END AS host_name,"
                    + " 'task-' || j || '-' || (c / 2000) AS task_uuid, (c % 20 = 3) AS changed, (c % 100 = 7) AS failed,"
                    + " now() - interval '1 day' + (j * interval '1 minute') + (c * interval '1 millisecond') AS created"
                    + " FROM generate_series(0, " + (jobs - 1) + ") j, generate_series(1, " + perJob + ") c";
            s.execute(
                    "INSERT INTO job_event (id, job_id, counter, uuid, parent_uuid, event, event_data, failed, changed,"
                            + " task, host_name, stdout, created, modified, received) SELECT job_id::bigint * 100000000 + counter,"
                            + " job_id, counter, job_id || '-' || counter, task_uuid, event,"
                            + " '{\"host\": \"' || host_name || '\", \"res\": {\"changed\": ' || changed || ', \"stdout\": \""
                            + "a typical module result of a hundred bytes or so, to give the rows some weight\"}}',"
                            + " failed, changed, 'a task', host_name, 'ok: [' || host_name || ']', created, created, created"
                            + " FROM (" + rows + ") r");
            s.execute("INSERT INTO job_event_index (job_id, counter, event, host_name, task_uuid, play, task, changed,"
                    + " failed, created_us) SELECT job_id, counter, event, host_name, task_uuid, '', '', changed, failed,"
                    + " (extract(epoch FROM created) * 1000000)::bigint FROM (" + rows + ") r");
            s.execute("VACUUM ANALYZE job_event_index");
            s.execute("ANALYZE job_event");
        }
        System.out.printf(
                "%n## cross-job search over %,d stored events (%d jobs in 20 partitions; loaded in %.0f s)%n",
                jobs * perJob, jobs, (System.nanoTime() - t) / 1e9);
        System.out.println("\n| query | first (ms) | median (ms) | slowest (ms) | body |");
        System.out.println("|---|---|---|---|---|");
        long middle = 100000 + (jobs / 2) * 50;
        for (String q : List.of(
                "host_name=host0042&changed=true",
                "host_name=host0043&changed=true",
                "host_name=host0042",
                "host_name=host0042&before=" + middle + ":1",
                "event=playbook_on_stats",
                "failed=true",
                "changed=true&event=runner_on_ok",
                "host_name=nosuchhost",
                "")) {
            String path = "/api/v2/job_events/?" + q;
            time(() -> Http.get(node.uri(path)), "admin: " + (q.isEmpty() ? "(no filter)" : q));
            time(
                    () -> Http.get(node.uri(path), carolAuth),
                    "user seeing 1 job in 10: " + (q.isEmpty() ? "(no filter)" : q));
        }
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length == 0 ? Double.NaN : v[v.length / 2];
    }
}
