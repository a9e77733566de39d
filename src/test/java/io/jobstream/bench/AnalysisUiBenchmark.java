package io.jobstream.bench;

import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.NodeDatabases;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SyntheticRun;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.Trees;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The pages that explain a run (issue 19) in headless Chromium against a real node, for a synthetic job of
 * {@code hosts × tasks} results posted through ingest ({@link SyntheticRun}, as the plugin emits them): for the
 * host x task matrix and the timeline, the time from navigation to the data loaded and to the first frame drawn with
 * it (interactive), by the page's Performance API clock from navigation start, median of several loads (the first
 * column is when the compact timeline's answer, {@code ?format=matrix}, was in, so the page's own share is the
 * difference); before that, the API answers' times and sizes from Java; then the cost of one matrix frame while
 * scrolling across the whole grid. Arguments: [hosts=1000] [tasks=200] [loads=5 (0: the API answers only)].
 */
public final class AnalysisUiBenchmark {
    public static void main(String[] args) throws Exception {
        int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int tasks = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int loads = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path dir = Files.createTempDirectory("jobstream-analysis-ui");
        RunningServer server = RunningServer.start(dir, Map.of());
        try {
            long job = 1;
            SyntheticRun run = new SyntheticRun(job, hosts, tasks);
            run.status = (h, t) ->
                    h % 97 == t % 89 ? "failed" : (h + t) % 7 == 0 ? "changed" : t % 11 == 0 ? "skipped" : "ok";
            run.duration = (h, t) -> Duration.ofMillis(200 + (h * 31 + t * 17) % 900);
            long t0 = System.nanoTime();
            ingest(server, run.lines());
            System.out.printf(
                    "ingested %,d hosts x %,d tasks in %.1f s%n", hosts, tasks, (System.nanoTime() - t0) / 1e9);
            awaitProcessed(server, job);
            long processed = System.nanoTime();
            URI metrics = server.uri("/metrics");
            // (a node without background builds, as before session 8, never counts one: 10 s, then on)
            while (MetricsText.sum(metrics, "analysis_prebuilds_total") < 1
                    && System.nanoTime() - processed < 10_000_000_000L) Thread.sleep(20);
            System.out.printf(
                    "model built in the background: %s, %.0f ms after the job showed processed%n",
                    MetricsText.value(metrics, "analysis_prebuilds_total{outcome=\"built\"}") == 1 ? "yes" : "NO",
                    (System.nanoTime() - processed) / 1e6);
            while (MetricsText.sum(metrics, "analysis_models_store_total") < 1
                    && System.nanoTime() - processed < 10_000_000_000L) Thread.sleep(20);
            System.out.printf(
                    "model stored: %s, %.0f ms after the job showed processed%n",
                    MetricsText.value(metrics, "analysis_models_store_total{outcome=\"saved\"}") == 1 ? "yes" : "NO",
                    (System.nanoTime() - processed) / 1e6);
            // the first requests of the finished job (its model built when it finished), then the SPEC shapes
            for (String api : List.of(
                    "timeline/?format=matrix",
                    "timeline/?format=matrix",
                    "timeline/?page_size=200",
                    "job_host_summaries/?page_size=200")) {
                get(server, job, api, "");
            }
            // a restarted node (the JVM warm from the node before): since session 9 its first request reads the model
            // stored when the job finished (job_run_model); with that row deleted first it builds the model from the
            // job's index rows, the path every restarted node, other cluster node and evicted job took before. The
            // two alternate, twice each, so both meet the same load.
            System.out.println(storedModel(server, job));
            for (int round = 0; round < 2; round++) {
                for (String api : List.of("timeline/?format=matrix", "timeline/?page_size=200")) {
                    for (boolean stored : round == 0 ? new boolean[] {true, false} : new boolean[] {false, true}) {
                        server.close();
                        server = RunningServer.start(dir, Map.of());
                        if (!stored) deleteStoredModel(server, job);
                        // the node's first request pays for what any first request does (the password's hash for
                        // Basic auth, pools, the job row): made apart, so the timed one is the job's first
                        get(server, job, "", ", restarted node, its first request (the job row)");
                        String how = stored ? "reads the stored model" : "row deleted: builds from the rows";
                        get(server, job, api, ", restarted node, first (" + how + ")");
                        get(server, job, api, ", restarted node, again");
                        URI m = server.uri("/metrics");
                        System.out.printf(
                                "  models made: %.0f from the store, %.0f from rows%n",
                                MetricsText.value(m, "analysis_models_made_total{source=\"stored\"}"),
                                MetricsText.value(m, "analysis_models_made_total{source=\"rows\"}"));
                        if (!stored) awaitStored(server, job); // the rebuilt model stored again for the next round
                    }
                }
            }
            if (loads > 0) pages(server, job, hosts, tasks, loads);
        } finally {
            server.close();
            // the node's data dir holds ~460 MB for 1,000 x 200: each run used to leave one behind in /tmp
            Trees.delete(dir);
        }
    }

    /** The job's row of job_run_model: its size and format. */
    private static String storedModel(RunningServer server, long job) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbc(server));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT octet_length(model), format, event_rows FROM job_run_model"
                        + " WHERE job_id = " + job)) {
            if (!rs.next()) return "stored model: NONE";
            return String.format(
                    "stored model: %,d bytes (format %d, %,d rows)", rs.getLong(1), rs.getInt(2), rs.getInt(3));
        }
    }

    private static void deleteStoredModel(RunningServer server, long job) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbc(server));
                Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM job_run_model WHERE job_id = " + job);
        }
    }

    private static void awaitStored(RunningServer server, long job) throws Exception {
        for (int i = 0; i < 600 && storedModel(server, job).endsWith("NONE"); i++) Thread.sleep(50);
    }

    /** The node's embedded PostgreSQL as a JDBC URL with its credentials. */
    private static String jdbc(RunningServer server) throws Exception {
        URI u = URI.create(NodeDatabases.url(server.dataDir()));
        String[] user = u.getRawUserInfo().split(":", 2);
        return "jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getPath() + "?user=" + user[0] + "&password="
                + user[1];
    }

    private static void get(RunningServer server, long job, String api, String what) {
        long a = System.nanoTime();
        int bytes =
                Http.get(server.uri("/api/v2/jobs/" + job + "/" + api)).body().length();
        System.out.printf("GET %s%s: %.0f ms, %,d bytes%n", api, what, (System.nanoTime() - a) / 1e6, bytes);
    }

    private static void pages(RunningServer server, long job, int hosts, int tasks, int loads) throws Exception {
        try (HeadlessChromium browser = HeadlessChromium.start()) {
            WebDriver driver = browser.driver;
            browser.logIn(server.uri("/"));
            JavascriptExecutor js = (JavascriptExecutor) driver;
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(120));
            served(server.uri("/api/v2/jobs/" + job + "/timeline/?format=matrix"));
            System.out.println("\n| page | API answered (ms) | data read (ms) | interactive (ms) |");
            System.out.println("|---|---|---|---|");
            for (String page : List.of("hosts", "timeline")) {
                List<Double> fetched = new ArrayList<>();
                List<Double> loaded = new ArrayList<>();
                List<Double> interactive = new ArrayList<>();
                for (int i = 0; i < loads; i++) {
                    driver.get(server.uri("/jobs/" + job + "/" + page).toString());
                    new WebDriverWait(driver, Duration.ofSeconds(120))
                            .until(d -> "true".equals(js.executeScript("return document.body.dataset.ready || ''")));
                    fetched.add(((Number) js.executeScript("return window.jobstream.timings.fetched")).doubleValue());
                    loaded.add(((Number) js.executeScript("return window.jobstream.timings.loaded")).doubleValue());
                    interactive.add(
                            ((Number) js.executeScript("return window.jobstream.timings.interactive")).doubleValue());
                }
                System.out.printf(
                        "| %s %,d x %,d | %.0f | %.0f | %.0f |%n",
                        page, hosts, tasks, median(fetched), median(loaded), median(interactive));
            }

            // one matrix frame while scrolling over the whole grid: a frame per step, its drawing time kept
            driver.get(server.uri("/jobs/" + job + "/hosts").toString());
            new WebDriverWait(driver, Duration.ofSeconds(120))
                    .until(d -> "true".equals(js.executeScript("return document.body.dataset.ready || ''")));
            @SuppressWarnings("unchecked")
            List<Number> frames = (List<Number>) js.executeAsyncScript(
                    "const done = arguments[arguments.length - 1]; const s = document.getElementById('matrix');"
                            + " const out = []; let i = 0; const steps = 100;"
                            + " function step() { if (i > 0) out.push(window.jobstream.timings.lastDraw);"
                            + "  if (i === steps) return done(out);"
                            + "  s.scrollTop = (s.scrollHeight - s.clientHeight) * i / steps;"
                            + "  s.scrollLeft = (s.scrollWidth - s.clientWidth) * i / steps; i++;"
                            + "  requestAnimationFrame(() => requestAnimationFrame(step)); }"
                            + " step();");
            List<Double> ms =
                    new ArrayList<>(frames.stream().map(Number::doubleValue).toList());
            Collections.sort(ms);
            System.out.printf(
                    "%nmatrix frame while scrolling: median %.1f ms, p95 %.1f ms, max %.1f ms (%d frames)%n",
                    median(ms), ms.get((int) (ms.size() * 0.95)), ms.get(ms.size() - 1), ms.size());
        }
    }

    /**
     * The compact timeline as the browser gets it (gzip): the median of 5 warm answers and their size on the wire,
     * then a poll with its ETag (304, no body).
     */
    private static void served(URI uri) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest.Builder get = Http.authorized(HttpRequest.newBuilder(uri), TestUsers.ADMIN_AUTH)
                .header("Accept-Encoding", "gzip")
                .timeout(Duration.ofSeconds(60));
        List<Double> ms = new ArrayList<>();
        HttpResponse<byte[]> r = null;
        for (int i = 0; i < 5; i++) {
            long a = System.nanoTime();
            r = client.send(get.copy().GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            ms.add((System.nanoTime() - a) / 1e6);
        }
        String etag = r.headers().firstValue("ETag").orElse("");
        long a = System.nanoTime();
        HttpResponse<byte[]> again = client.send(
                get.copy().header("If-None-Match", etag).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        System.out.printf(
                "GET %s, gzip, warm: median %.0f ms of 5, %,d bytes (%s); with its ETag: %d in %.0f ms%n",
                uri.getPath() + "?" + uri.getQuery(),
                median(ms),
                r.body().length,
                r.headers().firstValue("Content-Encoding").orElse("identity"),
                again.statusCode(),
                (System.nanoTime() - a) / 1e6);
    }

    private static void ingest(RunningServer server, List<String> lines) {
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            batch.append(lines.get(i)).append('\n');
            if ((i + 1) % 5000 == 0 || i == lines.size() - 1) {
                var reply = Http.post(server.uri("/api/v2/job_events/ingest/"), batch.toString());
                if (reply.statusCode() != 200) throw new AssertionError(reply.statusCode() + ": " + reply.body());
                batch.setLength(0);
            }
        }
    }

    private static void awaitProcessed(RunningServer server, long job) throws InterruptedException {
        for (int i = 0; i < 1200; i++) {
            if (Http.getJson(server.uri("/api/v2/jobs/" + job + "/"))
                    .path("event_processing_finished")
                    .asBoolean()) return;
            Thread.sleep(250);
        }
        throw new AssertionError("job " + job + " not processed");
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
