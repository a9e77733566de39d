package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets a clear reason per line, its valid neighbours are stored, and the node keeps serving. */
class BadInputIT {
    @TempDir
    static Path dataDir;

    static RunningServer server;

    @BeforeAll
    static void start() {
        server = RunningServer.start(dataDir, Map.of("ingest.max-request-size", "16MiB"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void each_bad_line_is_rejected_with_its_reason_and_good_neighbours_are_stored() {
        String tenMegabytes =
                "{\"job_id\":1,\"counter\":9,\"event\":\"verbose\",\"stdout\":\"" + "x".repeat(10 << 20) + "\"}";
        String body = String.join(
                "\n",
                Events.event(1, 1),
                "{\"job_id\":1,\"counter\":2,\"event\":", // malformed JSON
                "{\"job_id\":1,\"event\":\"verbose\"}", // no counter
                "{\"job_id\":1,\"counter\":4,\"event\":\"verbose\",\"start_line\":\"four\"}", // wrong type
                "{\"job_id\":1,\"counter\":5,\"event\":\"verbose\",\"stdout\":\"nul\\u0000here\"}",
                tenMegabytes,
                "{\"inventory_update_id\":1,\"counter\":7,\"event\":\"verbose\"}", // unknown job key
                Events.event(1, 8));
        HttpResponse<String> r = Http.post(server.uri("/api/v2/job_events/ingest/"), body);

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode reply = Http.json(r.body());
        assertThat(reply.path("accepted").asInt()).isEqualTo(3);
        List<String> rejected = reasons(reply.path("rejected"));
        assertThat(rejected.get(0)).startsWith("2: malformed JSON: Unexpected end-of-input");
        assertThat(rejected.subList(1, rejected.size()))
                .containsExactly(
                        "3: counter: missing",
                        "4: start_line: expected an integer from 0 to 2147483647, got string \"four\"",
                        "6: event is " + tenMegabytes.length()
                                + " bytes, over the limit of 2097152 bytes (ingest.max-event-size)",
                        "7: unsupported job key 'inventory_update_id': only job events (job_id) are accepted");
        assertThat(reasons(reply.path("repaired"))).containsExactly("5: stdout: removed 1 NUL character(s)");

        JsonNode events = Http.getJson(server.uri("/api/v2/jobs/1/job_events/?order_by=counter"));
        assertThat(events.path("results").findValuesAsText("counter")).containsExactly("1", "5", "8");
        assertThat(events.path("results").get(1).path("stdout").asText()).isEqualTo("nulhere");
        assertThat(Http.get(server.uri("/api/v2/ping/")).statusCode()).isEqualTo(200);
        assertThat(Http.get(server.uri("/metrics")).body())
                .contains("events_rejected_total{reason=\"malformed_json\"}")
                .contains("events_rejected_total{reason=\"too_large\"}")
                .contains("events_repaired_total{reason=\"nul\"} 1.0");
    }

    @Test
    void a_request_with_no_valid_line_is_refused_with_400_and_every_reason() {
        HttpResponse<String> r = Http.post(server.uri("/api/v2/job_events/ingest/"), "[1, {\"job_id\": 2}]");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(reasons(Http.json(r.body()).path("rejected")))
                .containsExactly("1: expected a JSON object, got number", "2: event: missing");
        assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), "").statusCode())
                .isEqualTo(400);
    }

    @Test
    void issue12_good_ndjson_lines_are_stored_next_to_a_bad_first_line_that_starts_with_a_bracket() {
        String body = "[]]\n" + Events.event(12, 1) + "\n" + Events.event(12, 2) + "\n";
        HttpResponse<String> ndjson = Http.post(server.uri("/api/v2/job_events/ingest/"), body); // x-ndjson
        assertThat(ndjson.statusCode()).as(ndjson.body()).isEqualTo(200);
        assertThat(Http.json(ndjson.body()).path("accepted").asInt()).isEqualTo(2);
        assertThat(reasons(Http.json(ndjson.body()).path("rejected")))
                .containsExactly("1: expected a JSON object, got array");
        // no content type at all (curl --data-binary sends a form type): the same, since the body is no one array
        HttpResponse<String> undeclared = Http.send(Http.authorized(
                        java.net.http.HttpRequest.newBuilder(server.uri("/api/v2/job_events/ingest/")),
                        io.jobstream.testing.TestUsers.ADMIN_AUTH)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.replace("12,", "13,")))
                .build());
        assertThat(undeclared.statusCode()).as(undeclared.body()).isEqualTo(200);
        assertThat(Http.json(undeclared.body()).path("accepted").asInt()).isEqualTo(2);
        assertThat(Http.getJson(server.uri("/api/v2/jobs/12/job_events/"))
                        .path("count")
                        .asInt())
                .isEqualTo(2);
    }

    @Test
    void a_body_over_the_request_limit_gets_413_and_the_node_keeps_serving() {
        String body = "x".repeat(17 << 20);
        // a client that waits for the go-ahead gets the 413 without sending the body
        HttpResponse<String> r = Http.send(Http.authorized(
                        java.net.http.HttpRequest.newBuilder(server.uri("/api/v2/job_events/ingest/"))
                                .expectContinue(true),
                        io.jobstream.testing.TestUsers.ADMIN_AUTH)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                .build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
        // one that sends it all anyway gets the 413 too, or, when the node's close overtakes the answer (it does not
        // read 17 MiB to refuse them: seen once in CI), a reset connection; either way nothing is stored
        try {
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), body).statusCode())
                    .isEqualTo(413);
        } catch (java.io.UncheckedIOException reset) {
            assertThat(reset).hasMessageContaining("IOException");
        }
        assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), Events.event(3, 1))
                        .statusCode())
                .isEqualTo(200);
    }

    private static List<String> reasons(JsonNode problems) {
        return java.util.stream.StreamSupport.stream(problems.spliterator(), false)
                .map(p -> p.path("line").asInt() + ": " + p.path("reason").asText())
                .toList();
    }
}
