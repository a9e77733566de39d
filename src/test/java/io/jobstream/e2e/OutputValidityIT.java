package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12.7: event_data holding every non-number a lenient parser takes ({@code NaN}, {@code -INF}, {@code +Infinity}
 * ...) is repaired at ingest, so every REST page and every websocket frame that carries it is JSON a strict parser
 * (the browser's JSON.parse) accepts; every answer says {@code nosniff}, and {@code format=html} runs nothing.
 */
class OutputValidityIT {
    private static final long JOB = 61;
    private static final List<String> NON_NUMBERS =
            List.of("NaN", "Infinity", "+Infinity", "-Infinity", "INF", "+INF", "-INF");
    /** Jackson's defaults: no NaN, no trailing garbage tolerated beyond the value. */
    private static final ObjectMapper STRICT = new ObjectMapper();

    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(dataDir);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void issue12_non_numbers_in_event_data_never_reach_a_client_as_invalid_json() throws Exception {
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=valid", TestUsers.ADMIN_AUTH, true);
        ws.send("{\"xrftoken\":\"valid\",\"groups\":{\"job_events\":[" + JOB + "],\"jobs\":[\"status_changed\","
                + "\"summary\"]}}");
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < NON_NUMBERS.size(); i++) {
            String w = NON_NUMBERS.get(i);
            String e = Events.event(JOB, i + 1);
            body.append(e, 0, e.length() - 2) // inside event_data
                    .append(",\"res\":{\"x\":")
                    .append(w)
                    .append(",\"l\":[1,")
                    .append(w)
                    .append("],\"n\":{\"y\":")
                    .append(w)
                    .append("}}}}\n");
        }
        body.append(Events.eof(JOB, NON_NUMBERS.size())).append('\n');
        HttpResponse<String> ingest =
                Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString(), TestUsers.ADMIN_AUTH);
        assertThat(ingest.statusCode()).as(ingest.body()).isEqualTo(200);
        // a bare INF is not even lenient JSON: that line is refused (never stored); every other one is repaired
        JsonNode reply = Http.json(ingest.body());
        assertThat(reply.path("repaired").size() + reply.path("rejected").size())
                .as(ingest.body())
                .isEqualTo(NON_NUMBERS.size());
        assertThat(reply.path("repaired").size()).as(ingest.body()).isGreaterThanOrEqualTo(NON_NUMBERS.size() - 1);

        SoftAssertions soft = new SoftAssertions();
        List<String> frames = new ArrayList<>();
        while (frames.stream().noneMatch(f -> f.contains("final_counter"))) {
            String frame = ws.frames.poll(10, TimeUnit.SECONDS);
            assertThat(frame).as("websocket frames so far: " + frames).isNotNull();
            frames.add(frame);
        }
        for (String frame : frames)
            soft.assertThat(strict(frame)).as("websocket frame " + frame).isTrue();
        long firstEvent = Http.json(Http.get(node.uri("/api/v2/jobs/" + JOB + "/job_events/"), TestUsers.ADMIN_AUTH)
                        .body())
                .path("results")
                .get(0)
                .get("id")
                .asLong();
        for (String path : List.of(
                "/api/v2/jobs/" + JOB + "/job_events/",
                "/api/v2/jobs/" + JOB + "/job_events/?page_size=1",
                "/api/v2/jobs/" + JOB + "/job_events/?limit=3",
                "/api/v2/jobs/" + JOB + "/job_events/?no_truncate=1",
                "/api/v2/jobs/" + JOB + "/job_events/children_summary/",
                "/api/v2/jobs/" + JOB + "/",
                "/api/v2/jobs/",
                "/api/v2/jobs/" + JOB + "/stdout/?format=json",
                "/api/v2/job_events/" + firstEvent + "/",
                "/api/v2/job_events/" + firstEvent + "/children/")) {
            HttpResponse<String> r = Http.get(node.uri(path), TestUsers.ADMIN_AUTH);
            soft.assertThat(r.statusCode()).as(path).isEqualTo(200);
            soft.assertThat(strict(r.body()))
                    .as(path + " is strict JSON: " + r.body())
                    .isTrue();
            soft.assertThat(r.headers().firstValue("X-Content-Type-Options"))
                    .as(path)
                    .contains("nosniff");
        }
        soft.assertAll();
        ws.abort();
    }

    @Test
    void every_text_answer_says_nosniff_and_the_html_output_runs_nothing() {
        String ev = Events.event(JOB + 1, 1).replace("job 62 line 1", "<script>alert(1)</script>");
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), ev, TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(200);
        SoftAssertions soft = new SoftAssertions();
        for (String format : List.of("txt", "ansi", "json", "html", "txt_download", "ansi_download")) {
            HttpResponse<String> r =
                    Http.get(node.uri("/api/v2/jobs/" + (JOB + 1) + "/stdout/?format=" + format), TestUsers.ADMIN_AUTH);
            soft.assertThat(r.statusCode()).as(format).isEqualTo(200);
            soft.assertThat(r.headers().firstValue("X-Content-Type-Options"))
                    .as(format)
                    .contains("nosniff");
            if (format.equals("html")) soft.assertThat(r.body()).as(format).doesNotContain("<script>");
            else
                soft.assertThat(r.headers().firstValue("Content-Type").orElse(""))
                        .as(format)
                        .doesNotContain("html");
        }
        HttpResponse<String> html =
                Http.get(node.uri("/api/v2/jobs/" + (JOB + 1) + "/stdout/?format=html"), TestUsers.ADMIN_AUTH);
        soft.assertThat(html.headers().firstValue("Content-Security-Policy").orElse(""))
                .contains("default-src 'none'", "frame-ancestors 'none'", "sandbox")
                .doesNotContain("script-src");
        for (String path : List.of(
                "/",
                "/login/",
                "/metrics",
                "/api/v2/ping/",
                "/api/v2/health/",
                "/static/app.css",
                "/api/v2/nothing/",
                "/api/v2/stats/")) {
            for (String auth : new String[] {null, TestUsers.ADMIN_AUTH}) {
                HttpResponse<String> r = auth == null ? Http.get(node.uri(path)) : Http.get(node.uri(path), auth);
                soft.assertThat(r.headers().firstValue("X-Content-Type-Options"))
                        .as(path + " " + r.statusCode())
                        .contains("nosniff");
            }
        }
        soft.assertAll();
    }

    private static boolean strict(String json) {
        try {
            JsonNode tree = STRICT.readTree(json);
            return tree != null;
        } catch (Exception e) {
            return false;
        }
    }
}
