package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.postgres.Database;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.NodeDatabases;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SyntheticRun;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Finished jobs' run models kept in PostgreSQL ({@code job_run_model}, {@link StoredRunModels}) on real nodes with
 * embedded PostgreSQL: a restarted node and a second node on the same database read the model the first node built
 * when the job finished instead of building it from the job's rows, and answer exactly as before; an event that
 * comes late for a finished job makes the stored model stale (caught up or rebuilt, then replaced); a damaged blob,
 * one of another format version and one that lacks a row below its highest counter are ignored, rebuilt from the
 * rows and replaced. Which path a node took is read from its metrics. (Retention deleting the row:
 * {@code PostgresRetentionIT}; the blob format itself: {@code RunModelCodecTest}.)
 */
class RunModelStoreIT {
    private static final String SAVED = "analysis_models_store_total{outcome=\"saved\"}";
    private static final String LOADED = "analysis_models_store_total{outcome=\"loaded\"}";
    private static final String FROM_ROWS = "analysis_models_made_total{source=\"rows\"}";
    private static final String FROM_STORE = "analysis_models_made_total{source=\"stored\"}";

    @Test
    void a_restarted_node_and_another_node_read_the_stored_model_instead_of_building_it() throws Exception {
        Path dir = TempDirs.make("model-store");
        long job = 6001;
        Map<String, String> before = new LinkedHashMap<>();
        try (RunningServer node = RunningServer.start(dir)) {
            ingest(node, run(job, 60, 12).lines());
            await(() -> metric(node, SAVED) == 1, "the model stored by the background build");
            for (String api : answers(job)) before.put(api, body(node, api));
            assertThat(metric(node, FROM_ROWS))
                    .as("the viewer met the model built in the background")
                    .isZero();
        }
        try (RunningServer restarted = RunningServer.start(dir)) {
            for (String api : answers(job))
                assertThat(body(restarted, api)).as(api).isEqualTo(before.get(api));
            assertThat(metric(restarted, LOADED)).isEqualTo(1);
            assertThat(metric(restarted, FROM_STORE)).isEqualTo(1);
            assertThat(metric(restarted, FROM_ROWS))
                    .as("not built from the rows")
                    .isZero();
            assertThat(metric(restarted, SAVED))
                    .as("nothing changed: not written again")
                    .isZero();

            // the SPEC shape of a finished job: kept once written (the same answer with a fresh now), and a 304 for
            // its ETag; another page is another answer with its own tag
            String spec = "/api/v2/jobs/" + job + "/timeline/?page_size=200";
            HttpResponse<String> first = Http.get(restarted.uri(spec));
            Thread.sleep(2); // a later now
            HttpResponse<String> second = Http.get(restarted.uri(spec));
            assertThat(second.body().replaceAll("\"now\":\"[^\"]*\"", "\"now\":\"\""))
                    .isEqualTo(before.get(spec));
            assertThat(second.body()).as("now is the time of each request").isNotEqualTo(first.body());
            String etag = second.headers().firstValue("ETag").orElseThrow();
            assertThat(first.headers().firstValue("ETag")).contains(etag);
            HttpResponse<String> again = Http.send(
                    Http.authorized(java.net.http.HttpRequest.newBuilder(restarted.uri(spec)), TestUsers.ADMIN_AUTH)
                            .header("If-None-Match", etag)
                            .GET()
                            .build());
            assertThat(again.statusCode()).isEqualTo(304);
            assertThat(Http.get(restarted.uri("/api/v2/jobs/" + job + "/timeline/?page_size=5"))
                            .headers()
                            .firstValue("ETag"))
                    .isPresent()
                    .get()
                    .isNotEqualTo(etag);

            // a second node on the same PostgreSQL (a cluster's nodes share only PostgreSQL and Redis)
            try (RunningServer other = RunningServer.start(
                    TempDirs.make("model-store-other"), Map.of("database-url", NodeDatabases.url(dir)))) {
                for (String api : answers(job))
                    assertThat(body(other, api)).as(api).isEqualTo(before.get(api));
                assertThat(metric(other, LOADED)).isEqualTo(1);
                assertThat(metric(other, FROM_ROWS)).isZero();
            }
        }
    }

    @Test
    void an_event_arriving_late_for_a_finished_job_makes_the_stored_model_stale_and_it_is_replaced() throws Exception {
        Path dir = TempDirs.make("model-store-late");
        long job = 6002;
        List<String> lines = run(job, 40, 10).lines();
        try (RunningServer node = RunningServer.start(dir)) {
            ingest(node, lines);
            await(() -> metric(node, SAVED) == 1, "the model stored by the background build");
            assertThat(hostCount(node, job)).isEqualTo(40);
            int stored = storedEvents(node, job);
            ingest(node, List.of(late(lines, job)));
            // no request here: this node's model would catch up and store itself in place of the stale one
            await(() -> storedEvents(node, job) == stored + 1, "the late event stored");
            assertThat(metric(node, SAVED)).isEqualTo(1);
        }
        try (RunningServer restarted = RunningServer.start(dir)) {
            assertThat(hostCount(restarted, job)).as("the late host is shown").isEqualTo(41);
            assertThat(metric(restarted, "analysis_models_store_total{outcome=\"stale\"}"))
                    .isEqualTo(1);
            await(() -> metric(restarted, SAVED) == 1, "the caught-up model stored in place of the stale one");
        }
        try (RunningServer again = RunningServer.start(dir)) {
            assertThat(hostCount(again, job)).isEqualTo(41);
            assertThat(metric(again, LOADED)).isEqualTo(1);
            assertThat(metric(again, "analysis_models_store_total{outcome=\"stale\"}"))
                    .isZero();
            assertThat(metric(again, FROM_ROWS)).isZero();
        }
    }

    @Test
    void a_damaged_an_old_and_a_gapped_stored_model_are_ignored_rebuilt_from_the_rows_and_replaced() throws Exception {
        Path dir = TempDirs.make("model-store-corrupt");
        long job = 6003;
        Map<String, String> before = new LinkedHashMap<>();
        try (RunningServer node = RunningServer.start(dir)) {
            ingest(node, run(job, 30, 8).lines());
            await(() -> metric(node, SAVED) == 1, "the model stored by the background build");
            for (String api : answers(job)) before.put(api, body(node, api));
        }
        // damaged inside the gzip stream: the CRC catches it
        update(
                dir,
                "UPDATE job_run_model SET model = overlay(model PLACING '\\xdeadbeefdeadbeef'::bytea FROM 40)"
                        + " WHERE job_id = " + job);
        rebuiltAndReplaced(dir, job, before, "corrupt");
        // written by another format version
        update(dir, "UPDATE job_run_model SET format = format + 1 WHERE job_id = " + job);
        rebuiltAndReplaced(dir, job, before, "old");
        // a sound blob that lacks a row below its highest counter (an event that came late, in the gap): the job has
        // stored more events than the model was built from, so it is rebuilt
        try (RunningServer node = RunningServer.start(dir);
                Database db = nodeDatabase(dir)) {
            RunModel gapped = new RunModel();
            new io.jobstream.postgres.PostgresRunReader(db.dataSource()).visit(job, 0, r -> {
                if (r.counter() != 20) gapped.accept(r);
            });
            try (Connection c = db.dataSource().getConnection();
                    PreparedStatement ps =
                            c.prepareStatement("UPDATE job_run_model SET model = ?, event_rows = ? WHERE job_id = ?")) {
                ps.setBytes(1, RunModelCodec.encode(gapped));
                ps.setInt(2, gapped.rows());
                ps.setLong(3, job);
                assertThat(ps.executeUpdate()).isEqualTo(1);
            }
        }
        rebuiltAndReplaced(dir, job, before, "stale");
        try (RunningServer node = RunningServer.start(dir)) { // the replacement is read
            for (String api : answers(job)) assertThat(body(node, api)).as(api).isEqualTo(before.get(api));
            assertThat(metric(node, LOADED)).isEqualTo(1);
            assertThat(metric(node, FROM_ROWS)).isZero();
        }
    }

    /** A node meets the stored model counted as {@code outcome}, answers from the rows as before and stores anew. */
    private static void rebuiltAndReplaced(Path dir, long job, Map<String, String> before, String outcome)
            throws Exception {
        try (RunningServer node = RunningServer.start(dir)) {
            for (String api : answers(job)) assertThat(body(node, api)).as(api).isEqualTo(before.get(api));
            assertThat(metric(node, "analysis_models_store_total{outcome=\"" + outcome + "\"}"))
                    .as(outcome)
                    .isEqualTo(1);
            assertThat(metric(node, FROM_ROWS)).as("built from the rows").isEqualTo(1);
            await(() -> metric(node, SAVED) == 1, "the rebuilt model stored in place of the " + outcome + " one");
            try (Database db = nodeDatabase(dir);
                    Connection c = db.dataSource().getConnection();
                    PreparedStatement ps = c.prepareStatement("SELECT format, event_rows = (SELECT stored_events"
                            + " FROM job WHERE id = ?) FROM job_run_model WHERE job_id = ?")) {
                ps.setLong(1, job);
                ps.setLong(2, job);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(RunModelCodec.VERSION);
                    assertThat(rs.getBoolean(2)).isTrue();
                }
            }
        }
    }

    /** One more result, for a new host on the first task, numbered after the job's EOF. */
    private static String late(List<String> lines, long job) {
        String eof = lines.get(lines.size() - 1);
        int finalCounter = Integer.parseInt(eof.replaceAll(".*\"final_counter\":(\\d+).*", "$1"));
        String result = lines.stream()
                .filter(l -> l.contains("\"event\":\"runner_on_ok\"") && l.contains(job + "-task-0\""))
                .findFirst()
                .orElseThrow();
        return result.replaceFirst("\"counter\":\\d+", "\"counter\":" + (finalCounter + 1))
                .replaceFirst(
                        "\"start_line\":\\d+,\"end_line\":\\d+",
                        "\"start_line\":" + finalCounter + ",\"end_line\":" + (finalCounter + 1))
                .replace("\"uuid\":\"" + job + "-r-", "\"uuid\":\"" + job + "-late-")
                .replaceAll("host\\d{4}", "late-host");
    }

    private static int storedEvents(RunningServer node, long job) {
        return Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                .path("stored_events")
                .asInt();
    }

    private static int hostCount(RunningServer node, long job) {
        return Http.getJson(node.uri("/api/v2/jobs/" + job + "/timeline/?format=matrix"))
                .path("host_count")
                .asInt();
    }

    private static SyntheticRun run(long job, int hosts, int tasks) {
        SyntheticRun run = new SyntheticRun(job, hosts, tasks);
        run.start = Instant.parse("2026-06-01T10:00:00Z");
        run.status =
                (h, t) -> h % 13 == t % 7 ? "failed" : h % 17 == t ? "ignored" : (h + t) % 5 == 0 ? "changed" : "ok";
        run.duration = (h, t) -> Duration.ofMillis(100 + (h * 37 + t * 11) % 700);
        return run;
    }

    private static List<String> answers(long job) {
        String base = "/api/v2/jobs/" + job + "/";
        return List.of(
                base + "timeline/?format=matrix",
                base + "timeline/?page_size=200",
                base + "job_host_summaries/?page_size=200");
    }

    private static double metric(RunningServer node, String name) {
        return MetricsText.value(node.uri("/metrics"), name);
    }

    /** The answer's body without {@code now} (the time of the request). */
    private static String body(RunningServer node, String api) {
        HttpResponse<String> r = Http.get(node.uri(api));
        assertThat(r.statusCode()).as(api).isEqualTo(200);
        return r.body().replaceAll("\"now\":\"[^\"]*\"", "\"now\":\"\"");
    }

    private static void ingest(RunningServer node, List<String> lines) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), String.join("\n", lines));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Http.json(r.body()).path("rejected").size()).as(r.body()).isZero();
    }

    private static Database nodeDatabase(Path dir) throws Exception {
        Database db = Database.fromUrl(NodeDatabases.url(dir), 2);
        db.start();
        return db;
    }

    /** Runs one statement on the database of the stopped node on {@code dir}, through a node started for it. */
    private static void update(Path dir, String sql) throws Exception {
        try (RunningServer node = RunningServer.start(dir);
                Database db = nodeDatabase(dir);
                Connection c = db.dataSource().getConnection()) {
            assertThat(c.createStatement().executeUpdate(sql)).isEqualTo(1);
        } catch (SQLException e) {
            throw new AssertionError(sql, e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }
}
