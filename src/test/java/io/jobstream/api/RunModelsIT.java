package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.postgres.Database;
import io.jobstream.postgres.PostgresJobReader;
import io.jobstream.postgres.PostgresRunReader;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SyntheticRun;
import io.jobstream.testing.TempDirs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The run models built in the background when a job finishes ({@link RunModels}, issue 19) on a real node with
 * embedded PostgreSQL: the first request of a finished job is served from the model built when its EOF was stored,
 * and answers exactly as a model built fresh from the rows (after a restart) does; many jobs finishing at once queue
 * at most {@link RunModels#QUEUE} builds and leave the rest to their first viewer; a model built in the background
 * never evicts one somebody asked for, and a job over the event bound is not built.
 */
class RunModelsIT {
    private static final String BUILT = "analysis_prebuilds_total{outcome=\"built\"}";

    @Test
    void a_finished_job_is_served_from_the_model_built_when_it_finished_as_a_fresh_build_would_serve_it()
            throws Exception {
        Path dir = TempDirs.make("run-models");
        long job = 3001;
        Map<String, String> before = new LinkedHashMap<>();
        try (RunningServer node = RunningServer.start(dir)) {
            SyntheticRun run = run(job, 60, 12);
            ingest(node, run.lines());
            await(() -> MetricsText.value(node.uri("/metrics"), BUILT) == 1, "the model built in the background");
            assertThat(MetricsText.value(node.uri("/metrics"), "analysis_models_size "))
                    .isEqualTo(12 + 60 * 12);
            for (String api : answers(job)) before.put(api, body(node, api));
            // served from that model: no second build, no catch-up beyond an empty read
            assertThat(MetricsText.value(node.uri("/metrics"), BUILT)).isEqualTo(1);
        }
        try (RunningServer node = RunningServer.start(dir)) { // a new node: nothing cached, the first request builds
            for (String api : answers(job)) {
                assertThat(body(node, api)).as(api).isEqualTo(before.get(api));
            }
            assertThat(MetricsText.value(node.uri("/metrics"), BUILT)).isZero();
        }
    }

    @Test
    void many_jobs_finishing_at_once_queue_a_bounded_number_of_builds_and_every_job_still_answers() throws Exception {
        int jobs = 40;
        try (RunningServer node = RunningServer.start(TempDirs.make("run-models-burst"))) {
            List<String> events = new ArrayList<>();
            List<String> eofs = new ArrayList<>();
            for (int j = 0; j < jobs; j++) {
                List<String> lines = run(4000 + j, 30, 10).lines();
                events.addAll(lines.subList(0, lines.size() - 1));
                eofs.add(lines.get(lines.size() - 1));
            }
            for (int from = 0; from < events.size(); from += 1000)
                ingest(node, events.subList(from, Math.min(events.size(), from + 1000)));
            ingest(node, eofs); // every job completes in the same moment
            URI metrics = node.uri("/metrics");
            await(() -> MetricsText.sum(metrics, "analysis_prebuilds_total") == jobs, "an outcome for every job");
            double built = MetricsText.value(metrics, BUILT);
            double busy = MetricsText.value(metrics, "analysis_prebuilds_total{outcome=\"busy\"}");
            // one build at a time and QUEUE waiting: the rest were dropped at once, not queued behind each other
            assertThat(busy).as("dropped, left to their first viewer").isGreaterThan(0);
            assertThat(built + busy).isEqualTo(jobs);
            assertThat(MetricsText.value(metrics, "analysis_models_size "))
                    .isEqualTo(built * (10 + 30 * 10))
                    .isLessThanOrEqualTo(RunCache.MAX_SIZE);
            for (int j = 0; j < jobs; j += 7) { // built or not, each answers in full
                var m = Http.getJson(node.uri("/api/v2/jobs/" + (4000 + j) + "/timeline/?format=matrix"));
                assertThat(m.path("count").asInt()).isEqualTo(10);
                assertThat(m.path("host_count").asInt()).isEqualTo(30);
            }
        }
    }

    @Test
    void a_background_build_never_evicts_a_model_somebody_asked_for_and_skips_a_job_over_the_bound() throws Exception {
        Path dir = TempDirs.make("run-models-room");
        try (RunningServer node = RunningServer.start(dir);
                Database db = nodeDatabase(dir)) {
            for (long j = 5001; j <= 5003; j++) ingest(node, run(j, 20, 5).lines()); // 105 tasks and results each
            await(() -> MetricsText.value(node.uri("/metrics"), BUILT) == 3, "the node's own builds");
            PostgresJobReader jobs = new PostgresJobReader(db.dataSource());
            RunCache cache = new RunCache(new PostgresRunReader(db.dataSource()), 250);
            RunModels models = new RunModels(cache, jobs, new SimpleMeterRegistry(), 1000);
            JobView a = jobs.find(5001).orElseThrow();
            cache.with(a, RunModel::size); // a viewer's model: 105 of 250
            assertThat(models.build(5002)).isEqualTo(RunModels.Outcome.BUILT); // 210 of 250
            assertThat(models.build(5002)).isEqualTo(RunModels.Outcome.CACHED);
            assertThat(models.build(5003)).isEqualTo(RunModels.Outcome.FULL); // would need 315: not built
            assertThat(cache.holds(5001)).isTrue();
            assertThat(cache.holds(5003)).isFalse();
            assertThat(cache.total()).isEqualTo(210);
            assertThat(models.build(9999)).isEqualTo(RunModels.Outcome.GONE);
            RunModels small = new RunModels(
                    new RunCache(new PostgresRunReader(db.dataSource()), 1000), jobs, new SimpleMeterRegistry(), 200);
            assertThat(small.build(5001)).isEqualTo(RunModels.Outcome.LARGE); // 208 events over a bound of 200

            // the model built in the background equals a fresh build, field by field and as the matrix answer
            RunCache fresh = new RunCache(new PostgresRunReader(db.dataSource()), 1000);
            JobView b = jobs.find(5002).orElseThrow();
            long now = Instant.now().toEpochMilli() * 1000;
            String prebuilt = cache.with(b, m -> dump(m) + new String(MatrixView.render(b, m, false, now)));
            String built = fresh.with(b, m -> dump(m) + new String(MatrixView.render(b, m, false, now)));
            assertThat(prebuilt).isEqualTo(built);
        }
    }

    /** Every field of a model, in order. */
    private static String dump(RunModel m) {
        StringBuilder s = new StringBuilder();
        s.append(m.rows())
                .append(' ')
                .append(m.maxCounter())
                .append(' ')
                .append(m.lastMicros())
                .append(' ');
        s.append(m.hasStats())
                .append(' ')
                .append(m.size())
                .append(' ')
                .append(m.hosts())
                .append('\n');
        for (RunModel.Task t : m.tasks()) {
            s.append(t.uuid)
                    .append('|')
                    .append(t.play)
                    .append('|')
                    .append(t.name)
                    .append('|')
                    .append(t.ordinal);
            s.append('|').append(t.counter).append('|').append(t.start).append('\n');
            for (RunModel.HostRun h : t.hosts.values()) {
                s.append("  ")
                        .append(h.host)
                        .append(' ')
                        .append(h.start)
                        .append(' ')
                        .append(h.end)
                        .append(' ');
                s.append(h.result).append(' ').append(h.ignored).append('\n');
            }
        }
        return s.toString();
    }

    private static SyntheticRun run(long job, int hosts, int tasks) {
        SyntheticRun run = new SyntheticRun(job, hosts, tasks);
        run.start = Instant.parse("2026-06-01T10:00:00Z");
        run.status = (h, t) -> h % 13 == t % 7
                ? "failed"
                : h % 17 == t ? "ignored" : (h + t) % 5 == 0 ? "changed" : t % 4 == 3 ? "skipped" : "ok";
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
        int port = Integer.parseInt(Files.readAllLines(dir.resolve("pg").resolve("postmaster.pid"))
                .get(3)
                .trim());
        String password = URLEncoder.encode(
                Files.readString(dir.resolve("database-password")).trim(), StandardCharsets.UTF_8);
        Database db = Database.fromUrl("postgresql://jobstream:" + password + "@127.0.0.1:" + port + "/postgres", 2);
        db.start();
        return db;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }
}
