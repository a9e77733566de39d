package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SyntheticRun;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.TimelineMatrixCheck;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The timeline's compact matrix shape ({@code ?format=matrix}, issue 19) on a real node with embedded PostgreSQL:
 * it agrees with the SPEC §11 timeline cell by cell on synthetic runs with every status, hosts missing from tasks,
 * a host without a start event, a result that never came and a host still running; polling with its ETag gets a
 * 304 until an event arrives; it is gzipped for clients that accept it; hostile parameters are a 400.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MatrixFormatIT {
    private static final long A = 2001; // finished: every status, a slow host, holes, a lost start, a lost result
    private static final long RUNNING = 2002; // unfinished: host0004 still on task 3
    private final Instant t0 = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);

    private RunningServer node;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(TempDirs.make("matrix-format"));
        SyntheticRun a = new SyntheticRun(A, 7, 5);
        a.start = t0;
        a.status = (h, t) -> h == 0 && t == 1
                ? "changed"
                : h == 1 && t == 2
                        ? "failed"
                        : h == 2 && t == 3
                                ? "ignored"
                                : h == 3 && t == 0 ? "skipped" : h == 4 && t == 3 ? "unreachable" : "ok";
        a.duration = (h, t) -> h == 4 && t == 2 ? Duration.ofSeconds(9) : Duration.ofMillis(500 + 100 * h + 7 * t);
        List<String> lines = new ArrayList<>(a.lines());
        // host0006 only from task 3 on (hosts in first-appearance order), host0007 not on task 2 (a hole),
        // host0002's start of task 4 lost (its start is the task's), host0003's result of task 5 lost (incomplete)
        lines.removeIf(l -> l.contains("\"" + A + "-s-0-5\"")
                || l.contains("\"" + A + "-r-0-5\"")
                || l.contains("\"" + A + "-s-1-5\"")
                || l.contains("\"" + A + "-r-1-5\"")
                || l.contains("\"" + A + "-s-1-6\"")
                || l.contains("\"" + A + "-r-1-6\"")
                || l.contains("\"" + A + "-s-3-1\"")
                || l.contains("\"" + A + "-r-4-2\""));
        ingest(lines);

        SyntheticRun r = new SyntheticRun(RUNNING, 4, 3);
        r.start = Instant.now().minus(Duration.ofSeconds(60)).truncatedTo(ChronoUnit.MILLIS);
        r.taskSpacing = Duration.ofSeconds(5);
        r.finished = false;
        r.status = (h, t) -> h == 3 && t == 2 ? "running" : "ok";
        ingest(r.lines());
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private void ingest(List<String> lines) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), String.join("\n", lines));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Http.json(r.body()).path("rejected").size()).as(r.body()).isZero();
    }

    private JsonNode matrix(long job) {
        return Http.getJson(node.uri("/api/v2/jobs/" + job + "/timeline/?format=matrix"));
    }

    @Test
    void a_finished_run_agrees_with_the_spec_timeline_cell_by_cell() {
        assertThat(TimelineMatrixCheck.assertAgrees(node::uri, A)).isEqualTo(7 * 5 - 3);
        JsonNode m = matrix(A);
        assertThat(m.path("running").asBoolean()).isFalse();
        List<String> hosts = new ArrayList<>();
        m.path("hosts").forEach(h -> hosts.add(h.asText()));
        // task 1 has hosts 1..5, task 2 adds host0007, task 3 host0006
        assertThat(hosts)
                .containsExactly("host0001", "host0002", "host0003", "host0004", "host0005", "host0007", "host0006");
        JsonNode tasks = m.path("tasks");
        assertThat(tasks.get(0).path("cells").asText()).isEqualTo("ooosoo.");
        assertThat(tasks.get(1).path("cells").asText()).isEqualTo("coooo..");
        assertThat(tasks.get(2).path("cells").asText()).isEqualTo("ofooooo");
        assertThat(tasks.get(3).path("cells").asText()).isEqualTo("ooiouoo");
        assertThat(tasks.get(4).path("cells").asText()).isEqualTo("ooxoooo");
        assertThat(tasks.get(2).path("slow").toString()).isEqualTo("[4]"); // host0005: 9 s against ~0.7 s
        assertThat(tasks.get(2).path("ms").get(4).asLong()).isEqualTo(9000);
        assertThat(tasks.get(4).path("ms").get(2).asLong()).isEqualTo(-1);
        assertThat(tasks.get(3).path("start_ms").get(1).asLong()).isZero(); // no runner_on_start: the task's start
        assertThat(tasks.get(3).path("start_ms").get(2).asLong()).isEqualTo(2);
        assertThat(m.path("letters").path("i").asText()).isEqualTo("ignored");
    }

    @Test
    void a_running_run_agrees_and_shows_the_host_still_on_its_task_with_its_elapsed_time() {
        TimelineMatrixCheck.assertAgrees(node::uri, RUNNING);
        JsonNode m = matrix(RUNNING);
        assertThat(m.path("running").asBoolean()).isTrue();
        JsonNode last = m.path("tasks").get(2);
        assertThat(last.path("cells").asText()).isEqualTo("ooor");
        assertThat(last.path("end").isNull()).isTrue();
        assertThat(last.path("ms").get(3).asLong()).isGreaterThan(40_000);
        assertThat(last.path("slow").toString()).isEqualTo("[3]");
    }

    @Test
    void polling_with_the_etag_is_answered_304_until_an_event_arrives() {
        long job = 2003;
        SyntheticRun r = new SyntheticRun(job, 3, 2);
        r.start = t0;
        List<String> lines = r.lines();
        ingest(lines.subList(0, lines.size() - 3));
        String path = "/api/v2/jobs/" + job + "/timeline/?format=matrix";
        HttpResponse<String> first = Http.get(node.uri(path));
        assertThat(first.statusCode()).isEqualTo(200);
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertThat(first.headers().firstValue("Cache-Control").orElse("")).contains("no-cache");

        HttpResponse<String> again = conditional(path, etag);
        // the job runs, so the tag also moves every few seconds (elapsed times): a 200 is allowed then, with a new tag
        if (again.statusCode() == 200)
            assertThat(again.headers().firstValue("ETag").orElseThrow()).isNotEqualTo(etag);
        else assertThat(again.statusCode()).isEqualTo(304);
        assertThat(conditional(path, "\"other\", W/" + etag).statusCode()).isIn(200, 304);

        ingest(lines.subList(lines.size() - 3, lines.size())); // the last result, stats, EOF: the job ends
        HttpResponse<String> ended = conditional(path, etag);
        assertThat(ended.statusCode()).isEqualTo(200);
        String endedTag = ended.headers().firstValue("ETag").orElseThrow();
        assertThat(endedTag).isNotEqualTo(etag);
        assertThat(Http.json(ended.body()).path("tasks").get(1).path("cells").asText())
                .isEqualTo("ooo");
        // finished: the tag holds still, so a page that keeps polling gets 304s with no body
        HttpResponse<String> still = conditional(path, endedTag);
        assertThat(still.statusCode()).isEqualTo(304);
        assertThat(still.body()).isEmpty();
        // the SPEC shape is not conditional
        assertThat(conditional("/api/v2/jobs/" + job + "/timeline/", endedTag).statusCode())
                .isEqualTo(200);
    }

    private HttpResponse<String> conditional(String path, String etag) {
        return Http.send(Http.authorized(HttpRequest.newBuilder(node.uri(path)), TestUsers.ADMIN_AUTH)
                .header("If-None-Match", etag)
                .GET()
                .build());
    }

    @Test
    void it_is_gzipped_for_clients_that_accept_it() throws Exception {
        HttpResponse<byte[]> r = java.net.http.HttpClient.newHttpClient()
                .send(
                        Http.authorized(
                                        HttpRequest.newBuilder(
                                                node.uri("/api/v2/jobs/" + A + "/timeline/?format=matrix")),
                                        TestUsers.ADMIN_AUTH)
                                .header("Accept-Encoding", "gzip")
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Encoding")).hasValue("gzip");
        String text;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.body()))) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(Http.json(text).path("hosts").size()).isEqualTo(7);
    }

    @Test
    void hostile_parameters_are_refused_with_a_reason() {
        String base = "/api/v2/jobs/" + A + "/timeline/?";
        for (String q : List.of(
                "format=",
                "format=MATRIX",
                "format=csv",
                "format=" + "m".repeat(5000),
                "format=matrix&format=matrix",
                "format=matrix&page=2",
                "format=matrix&page_size=200",
                "format=matrix&hosts=0",
                "format=matrix&frobnicate=1",
                "format=matrix%00")) {
            HttpResponse<String> r = Http.get(node.uri(base + q));
            assertThat(r.statusCode()).as(q + ": " + r.body()).isEqualTo(400);
            assertThat(Http.json(r.body()).path("detail").asText()).as(q).isNotBlank();
            assertThat(r.body().length()).as(q).isLessThan(400); // an echo is shortened
        }
        assertThat(Http.get(node.uri("/api/v2/jobs/999999/timeline/?format=matrix"))
                        .statusCode())
                .isEqualTo(404);
        assertThat(Http.get(node.uri("/api/v2/jobs/abc/timeline/?format=matrix"))
                        .statusCode())
                .isEqualTo(404);
        assertThat(Http.get(node.uri("/api/v2/jobs/" + A + "/timeline/?format=matrix"), null)
                        .statusCode())
                .isEqualTo(401);
    }
}
