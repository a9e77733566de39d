package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SPEC §10 on a real node (embedded PostgreSQL, real websockets, real ansible-playbook): redaction at ingest reaches
 * no surface, and capture levels chosen per launch and per ingest token keep what they say.
 */
class RedactionCaptureIT {
    private static final String SECRET = "hunter2-XYZZY";
    private static final Path PLAYBOOKS = Path.of("playbooks").toAbsolutePath();

    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir,
                Map.of(
                        "playbook-dir",
                        PLAYBOOKS.toString(),
                        // two patterns, as the environment variable holds them: one per line
                        "redact-pattern",
                        "hunter2-[A-Z]+\ntoken=[0-9a-f]{8}"));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    private static String event(long job, int counter, String stdout, String eventData) {
        return "{\"job_id\":" + job + ",\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"u" + counter
                + "\",\"stdout\":" + quote(stdout) + ",\"start_line\":" + (counter - 1) + ",\"end_line\":" + counter
                + ",\"created\":\"2026-12-06T10:00:00.000001+00:00\",\"event_data\":" + eventData + "}";
    }

    private static String quote(String s) {
        return io.jobstream.event.Json.MAPPER.valueToTree(s).toString();
    }

    private static List<JsonNode> events(long job) {
        return toList(Http.getJson(node.uri("/api/v2/jobs/" + job + "/job_events/?order_by=counter&page_size=200"))
                .path("results"));
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    @Test
    void a_secret_matched_at_ingest_reaches_no_websocket_rest_page_download_or_metric_label() throws Exception {
        long job = 9101;
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=r", TestUsers.ADMIN_AUTH, true);
        ws.next(); // accept
        ws.send("{\"xrftoken\":\"r\",\"groups\":{\"job_events\":[" + job + "]}}");
        assertThat(ws.next().path("groups_current").toString()).contains("job_events-" + job);

        String body = event(
                        job,
                        1,
                        "ok: [web1] => password " + SECRET + "\n",
                        "{\"host\":\"web1\",\"task\":\"use " + SECRET + "\",\"res\":{\"" + SECRET
                                + "\":[\"token=deadbeef\",{\"x\":\"" + SECRET + "\"}]}}")
                + "\n" + event(job, 2, "nothing to hide\n", "{\"host\":\"web1\",\"res\":{\"msg\":\"fine\"}}")
                + "\n{\"job_id\":" + job + ",\"event\":\"EOF\",\"final_counter\":2}\n";
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).doesNotContain(SECRET);

        // websocket: the live messages
        List<String> frames = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            String f;
            while ((f = ws.frames.poll(100, TimeUnit.MILLISECONDS)) != null) frames.add(f);
            return frames.stream().anyMatch(x -> x.contains("nothing to hide"));
        });
        String live = String.join("\n", frames);
        assertThat(live).contains("********").doesNotContain("hunter2").doesNotContain("deadbeef");
        ws.abort();

        // REST: events, one event, children summary and every stdout format
        List<JsonNode> stored = events(job);
        assertThat(stored).hasSize(2);
        JsonNode first = stored.get(0);
        assertThat(first.path("stdout").asText()).isEqualTo("ok: [web1] => password ********\n");
        assertThat(first.path("task").asText()).isEqualTo("use ********");
        assertThat(first.path("event_data").path("res").path("********").get(0).asText())
                .isEqualTo("********");
        assertThat(stored.get(1).path("event_data").path("res").path("msg").asText())
                .isEqualTo("fine");
        String one = Http.get(node.uri("/api/v2/job_events/" + first.path("id").asLong() + "/"))
                .body();
        assertThat(one).doesNotContain("hunter2").contains("********");
        for (String format : List.of("txt", "ansi", "json", "html", "txt_download", "ansi_download")) {
            HttpResponse<String> out = Http.get(node.uri("/api/v2/jobs/" + job + "/stdout/?format=" + format));
            assertThat(out.statusCode()).as(format).isEqualTo(200);
            assertThat(out.body()).as(format).doesNotContain("hunter2").contains("********");
        }
        String search = Http.get(node.uri("/api/v2/jobs/" + job + "/job_events/?search=hunter2"))
                .body();
        assertThat(Http.json(search).path("count").asInt()).isZero();

        assertThat(MetricsText.value(node.uri("/metrics"), "events_redacted_total"))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(Http.get(node.uri("/metrics")).body()).doesNotContain("hunter2");
    }

    @Test
    void a_launch_at_summary_keeps_starts_changes_and_stats_and_counts_the_rest() throws Exception {
        HttpResponse<String> r = Http.postJson(
                node.uri("/api/v2/jobs/"),
                "{\"playbook\":\"hello.yml\",\"inventory\":\"inventory.ini\",\"capture\":\"summary\"}",
                TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long id = Http.json(r.body()).path("id").asLong();
        JsonNode job = awaitDone(id);
        assertThat(job.path("status").asText()).isEqualTo("successful");
        assertThat(job.path("capture").asText()).isEqualTo("summary");

        List<JsonNode> events = events(id);
        // counters stay gap-free: a dropped event keeps its row, without text
        assertThat(events).hasSize(job.path("final_counter").asInt());
        for (int i = 0; i < events.size(); i++)
            assertThat(events.get(i).path("counter").asInt()).isEqualTo(i + 1);
        int dropped = 0;
        for (JsonNode e : events) {
            String type = e.path("event").asText();
            boolean kept = List.of(
                                    "playbook_on_start",
                                    "playbook_on_play_start",
                                    "playbook_on_task_start",
                                    "playbook_on_stats")
                            .contains(type)
                    || e.path("changed").asBoolean()
                    || e.path("failed").asBoolean();
            if (kept) {
                if (!type.equals("playbook_on_start"))
                    assertThat(e.path("stdout").asText()).as(type).isNotEmpty();
            } else {
                assertThat(e.path("stdout").asText()).as(type).isEmpty();
                assertThat(e.path("event_data").size()).as(type).isZero();
                if (!e.path("host_name").asText().isEmpty()) dropped++;
            }
        }
        assertThat(dropped)
                .as("the debug task's ok and the runner_on_start events")
                .isGreaterThan(0);
        assertThat(job.path("capture_dropped").path("events").asLong()).isGreaterThanOrEqualTo(dropped);
        assertThat(job.path("capture_dropped").path("bytes").asLong()).isPositive();
        // the changed command's result and the recap are there; the debug's message is not
        String txt =
                Http.get(node.uri("/api/v2/jobs/" + id + "/stdout/?format=txt")).body();
        assertThat(txt).contains("TASK [Run a command").contains("changed: [").contains("PLAY RECAP");
        assertThat(txt).doesNotContain("\"msg\": \"Hello from jobstream\"");
        assertThat(job.path("host_status_counts").isObject()).isTrue();
        assertThat(MetricsText.value(node.uri("/metrics"), "capture_dropped_events_total{level=\"summary\"}"))
                .isGreaterThanOrEqualTo(dropped);
    }

    @Test
    void an_ingest_token_at_no_event_data_drops_results_and_the_job_shows_its_level() throws Exception {
        HttpResponse<String> t = Http.postJson(
                node.uri("/api/v2/tokens/"),
                "{\"kind\":\"ingest\",\"capture\":\"no_event_data\",\"description\":\"chatty\"}",
                TestUsers.ADMIN_AUTH);
        assertThat(t.statusCode()).as(t.body()).isEqualTo(201);
        JsonNode token = Http.json(t.body());
        assertThat(token.path("capture").asText()).isEqualTo("no_event_data");
        long job = token.path("job").asLong();
        String bearer = "Bearer " + token.path("token").asText();
        String res = "{\"stdout_lines\":[\"" + "x".repeat(2000) + "\"],\"changed\":true}";
        String body = event(job, 1, "changed: [web1]\n", "{\"host\":\"web1\",\"task\":\"t\",\"res\":" + res + "}")
                + "\n" + event(job, 2, "ok: [web1]\n", "{\"host\":\"web1\",\"task\":\"u\"}") + "\n";
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body, bearer);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        // sent again: duplicates, counted once
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body, bearer)
                        .statusCode())
                .isEqualTo(200);

        List<JsonNode> events = events(job);
        assertThat(events).hasSize(2);
        assertThat(events.get(0).path("event_data").has("res")).isFalse();
        assertThat(events.get(0).path("event_data").path("task").asText()).isEqualTo("t");
        assertThat(events.get(0).path("changed").asBoolean())
                .as("derived before the drop")
                .isTrue();
        assertThat(events.get(0).path("stdout").asText()).isEqualTo("changed: [web1]\n");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode j = Http.getJson(node.uri("/api/v2/jobs/" + job + "/"));
            assertThat(j.path("capture").asText()).isEqualTo("no_event_data");
            assertThat(j.path("capture_dropped").path("events").asLong()).isEqualTo(1);
            assertThat(j.path("capture_dropped").path("bytes").asLong()).isGreaterThan(2000);
        });
        // a job written without a level says full
        HttpResponse<String> plain = Http.post(node.uri("/api/v2/job_events/ingest/"), event(9102, 1, "x\n", "{}"));
        assertThat(plain.statusCode()).as(plain.body()).isEqualTo(200);
        JsonNode other = Http.getJson(node.uri("/api/v2/jobs/9102/"));
        assertThat(other.path("capture").asText()).isEqualTo("full");
        assertThat(other.path("capture_dropped").path("events").asLong()).isZero();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"everything\"",
                "\"FULL\"",
                "\"\"",
                "42",
                "true",
                "[\"summary\"]",
                "{\"level\":\"summary\"}",
                "\"summary\\u0000\"",
                "\"full \""
            })
    void an_absurd_capture_value_is_refused_with_its_reason(String value) {
        URI jobs = node.uri("/api/v2/jobs/");
        HttpResponse<String> launch =
                Http.postJson(jobs, "{\"playbook\":\"hello.yml\",\"capture\":" + value + "}", TestUsers.ADMIN_AUTH);
        assertThat(launch.statusCode()).as(launch.body()).isEqualTo(400);
        assertThat(launch.body()).contains("capture must be one of full, no_event_data, summary");
        assertThat(launch.body()).doesNotContain("\u0000");

        HttpResponse<String> token = Http.postJson(
                node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"capture\":" + value + "}", TestUsers.ADMIN_AUTH);
        assertThat(token.statusCode()).as(token.body()).isEqualTo(400);
        assertThat(token.body()).contains("capture");
    }

    @Test
    void an_api_token_has_no_capture_level() {
        HttpResponse<String> token = Http.postJson(
                node.uri("/api/v2/tokens/"), "{\"kind\":\"api\",\"capture\":\"summary\"}", TestUsers.ADMIN_AUTH);
        assertThat(token.statusCode()).as(token.body()).isEqualTo(400);
        assertThat(token.body()).contains("Only ingest tokens have a capture level");
    }

    private static JsonNode awaitDone(long id) {
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(() -> {
                    JsonNode j = Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
                    return !List.of("new", "pending", "waiting", "running")
                                    .contains(j.path("status").asText())
                            && j.path("event_processing_finished").asBoolean();
                });
        // capture counts are written just after the commit that completes the job
        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + id + "/"))
                                .path("capture_dropped")
                                .path("events")
                                .asLong()
                        > 0);
        return Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
    }
}
