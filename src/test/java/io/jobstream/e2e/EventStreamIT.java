package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SseClient;
import io.jobstream.testing.TestJobs;
import io.jobstream.testing.TestUsers;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server-sent events (SPEC §12) against a real node: the websocket's ordering and exactly-once rules across
 * reconnects with {@code Last-Event-ID}, the job's access rules, limits, and a reader that stops reading.
 */
class EventStreamIT {
    private static final String ALICE = TestUsers.basic("alice", "alice-pw");
    private static final String BOB = TestUsers.basic("bob", "bob-pw");
    /** Small, so the streams here hit it: a slow reader, and catch-ups from the store on every reconnect. */
    private static final long OUTBOX_BYTES = 64 << 10;

    private static final int MAX_STREAMS = 6;

    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir,
                Map.of(
                        "ws.outbox-max-bytes", "64KiB",
                        "ws.max-connections-per-user", Integer.toString(MAX_STREAMS),
                        "http.max-requests-per-user", "3",
                        "sse.heartbeat", "1s"));
        for (String user : List.of("alice", "bob")) {
            assertThat(Http.postJson(
                                    node.uri("/api/v2/users/"),
                                    "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
        }
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static URI stream(long job) {
        return node.uri("/api/v2/jobs/" + job + "/events/stream/");
    }

    private static void ingest(long job, int from, int to) {
        StringBuilder body = new StringBuilder();
        for (int c = from; c <= to; c++) body.append(Events.event(job, c)).append('\n');
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString(), ALICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static void eof(long job, int finalCounter) {
        HttpResponse<String> r =
                Http.post(node.uri("/api/v2/job_events/ingest/"), Events.eof(job, finalCounter), ALICE);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    @Test
    void a_stream_sends_the_stored_events_then_the_live_ones_once_in_order_and_ends_after_the_final_counter()
            throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ALICE);
        ingest(job, 1, 40);
        try (SseClient sse = SseClient.open(stream(job), ALICE, null)) {
            assertThat(sse.status).isEqualTo(200);
            assertThat(sse.contentType).startsWith("text/event-stream");
            for (int c = 1; c <= 40; c++) expectEvent(nextEvent(sse), job, c);
            ingest(job, 41, 60);
            ingest(job, 61, 100);
            eof(job, 100);
            for (int c = 41; c <= 100; c++) expectEvent(nextEvent(sse), job, c);
            SseClient.Event end = nextOfType(sse, "end");
            assertThat(Http.json(end.data()).get("final_counter").asInt()).isEqualTo(100);
            sse.ended.get(30, TimeUnit.SECONDS);
            assertThat(sse.events)
                    .as("nothing after the end")
                    .allMatch(e -> !e.type().equals("message"));
        }
        // a finished job: a resume from its last event ends at once; one from the middle sends the rest only
        try (SseClient done = SseClient.open(stream(job), ALICE, "100")) {
            assertThat(nextOfType(done, "end")).isNotNull();
        }
        try (SseClient rest =
                SseClient.open(node.uri("/api/v2/jobs/" + job + "/events/stream/?last_event_id=97"), ALICE, null)) {
            for (int c = 98; c <= 100; c++) expectEvent(nextEvent(rest), job, c);
            assertThat(nextOfType(rest, "end")).isNotNull();
        }
    }

    @Test
    void reconnecting_with_last_event_id_while_events_stream_repeats_and_loses_nothing() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ALICE);
        int total = 3000;
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CompletableFuture<Void> emitter = CompletableFuture.runAsync(() -> {
            try {
                for (int c = 1; c <= total; c += 50) {
                    ingest(job, c, Math.min(total, c + 49));
                    Thread.sleep(5);
                }
                eof(job, total);
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        List<Integer> seen = new ArrayList<>();
        int reconnects = 0;
        boolean ended = false;
        while (!ended) {
            String last = seen.isEmpty() ? null : Integer.toString(seen.get(seen.size() - 1));
            int take = ThreadLocalRandom.current().nextInt(50, 400);
            try (SseClient sse = SseClient.open(stream(job), ALICE, last)) {
                assertThat(sse.status).isEqualTo(200);
                for (int i = 0; i < take; i++) {
                    SseClient.Event e = sse.next(60);
                    if (e.type().equals("end")) {
                        ended = true;
                        break;
                    }
                    if (e.type().equals("message")) {
                        assertThat(e.id()).isNotNull();
                        seen.add(Integer.parseInt(e.id()));
                        expectEvent(e, job, seen.get(seen.size() - 1));
                    }
                }
            }
            reconnects++;
        }
        emitter.get(120, TimeUnit.SECONDS);
        assertThat(failed.get()).isNull();
        List<Integer> expected = new ArrayList<>();
        for (int c = 1; c <= total; c++) expected.add(c);
        assertThat(seen).as("counters over %d connections", reconnects).isEqualTo(expected);
        assertThat(reconnects).isGreaterThan(5);
    }

    @Test
    void another_users_job_a_missing_job_and_absurd_positions_are_refused_with_awxs_words() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ALICE);
        ingest(job, 1, 3);
        assertThat(status(stream(job), BOB, null)).isEqualTo(403);
        assertThat(status(stream(job), null, null)).isEqualTo(401);
        assertThat(status(node.uri("/api/v2/jobs/99999999/events/stream/"), ALICE, null))
                .isEqualTo(404);
        assertThat(status(node.uri("/api/v2/jobs/abc/events/stream/"), ALICE, null))
                .isEqualTo(404);
        for (String absurd : List.of("-1", "abc", "2147483647", "99999999999999999999", "1e5", "0x10", "1 2")) {
            assertThat(status(stream(job), ALICE, absurd))
                    .as("Last-Event-ID " + absurd)
                    .isEqualTo(400);
        }
        assertThat(status(node.uri("/api/v2/jobs/" + job + "/events/stream/?last_event_id=-5"), ALICE, null))
                .isEqualTo(400);
        String ingestToken = "Bearer "
                + Http.json(Http.postJson(
                                        node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":" + job + "}", ALICE)
                                .body())
                        .get("token")
                        .asText();
        assertThat(status(stream(job), ingestToken, null))
                .as("an ingest token reads nothing")
                .isEqualTo(403);
        // far beyond the end of a running job: nothing is sent, the stream waits (heartbeats only)
        try (SseClient ahead = SseClient.open(stream(job), ALICE, "2147483646")) {
            assertThat(ahead.status).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).until(() -> ahead.comments() >= 2);
            assertThat(ahead.events).isEmpty();
        }
    }

    @Test
    void a_stream_whose_token_is_deleted_ends_with_close_and_cannot_come_back() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ALICE);
        ingest(job, 1, 2);
        JsonNode token = Http.json(
                Http.postJson(node.uri("/api/v2/tokens/"), "{}", ALICE).body());
        String bearer = "Bearer " + token.get("token").asText();
        try (SseClient sse = SseClient.open(stream(job), bearer, null)) {
            expectEvent(nextEvent(sse), job, 1);
            expectEvent(nextEvent(sse), job, 2);
            assertThat(Http.delete(node.uri("/api/v2/tokens/" + token.get("id").asLong() + "/"), ALICE)
                            .statusCode())
                    .isEqualTo(204);
            SseClient.Event close = nextOfType(sse, "close");
            assertThat(Http.json(close.data()).get("reason").asText()).isEqualTo("access_withdrawn");
            assertThat(Http.json(close.data()).get("last_event_id").asInt()).isEqualTo(2);
            sse.ended.get(30, TimeUnit.SECONDS);
        }
        assertThat(status(stream(job), bearer, "2")).isEqualTo(401);
    }

    @Test
    void streams_count_as_the_users_connections_not_as_requests_in_progress_and_go_when_the_client_does()
            throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ALICE);
        ingest(job, 1, 2);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> MetricsText.value(node.uri("/metrics"), "sse_streams ") == 0);
        List<SseClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_STREAMS; i++) {
                SseClient s = SseClient.open(stream(job), ALICE, null);
                assertThat(s.status).isEqualTo(200);
                open.add(s);
            }
            assertThat(Http.get(node.uri("/api/v2/stats/"), TestUsers.ADMIN_AUTH)
                            .body())
                    .as("stats list the streams with the websockets")
                    .contains("\"remote\":\"sse ");
            HttpResponse<String> refused = Http.get(stream(job), ALICE);
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.body()).contains("ws.max-connections-per-user");
            // more streams than http.max-requests-per-user (3), and the API still answers the same user
            for (int i = 0; i < 5; i++) {
                assertThat(Http.get(node.uri("/api/v2/jobs/" + job + "/"), ALICE)
                                .statusCode())
                        .isEqualTo(200);
            }
            assertThat(status(stream(job), BOB, null))
                    .as("another user's limit is their own")
                    .isEqualTo(403);
        } finally {
            open.forEach(SseClient::close);
        }
        // the heartbeat finds the closed connections, and their places are free again
        await().atMost(Duration.ofSeconds(60))
                .until(() -> MetricsText.value(node.uri("/metrics"), "sse_streams ") == 0);
        try (SseClient again = SseClient.open(stream(job), ALICE, null)) {
            assertThat(again.status).isEqualTo(200);
            expectEvent(nextEvent(again), job, 1);
        }
    }

    @Test
    void a_reader_that_stops_reading_holds_bounded_memory_and_then_gets_everything_once_in_order() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ALICE);
        int total = 1200;
        String big = "x".repeat(16_000);
        try (SseClient slow = SseClient.paused(node.uri("/"), "/api/v2/jobs/" + job + "/events/stream/", ALICE, 4096)) {
            assertThat(slow.status).isEqualTo(200);
            double most = 0;
            for (int c = 1; c <= total; c += 100) {
                StringBuilder body = new StringBuilder();
                for (int i = c; i < c + 100; i++) {
                    body.append(Events.event(job, i).replace("\"stdout\":\"", "\"stdout\":\"" + big))
                            .append('\n');
                }
                assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString(), ALICE)
                                .statusCode())
                        .isEqualTo(200);
                most = Math.max(most, MetricsText.value(node.uri("/metrics"), "ws_outbox_bytes"));
            }
            eof(job, total);
            for (int i = 0; i < 10; i++) {
                most = Math.max(most, MetricsText.value(node.uri("/metrics"), "ws_outbox_bytes"));
                Thread.sleep(200);
            }
            // ~19 MB of output went by; the stream held about its byte budget of it (an event may exceed it alone)
            System.out.printf(
                    "slow SSE reader: %.0f KiB most held for it while %d KiB of events went by%n",
                    most / 1024, (long) total * big.length() / 1024);
            assertThat(most).isLessThanOrEqualTo(OUTBOX_BYTES + 2.0 * 2 * (big.length() + 1000));
            slow.startReading();
            for (int c = 1; c <= total; c++) {
                SseClient.Event e = slow.next(60);
                if (e.type().equals("status_changed")) e = slow.next(60); // the job's, whenever it comes
                assertThat(e.type()).isEqualTo("message");
                assertThat(e.id()).isEqualTo(Integer.toString(c));
            }
            assertThat(nextOfType(slow, "end")).isNotNull();
        }
    }

    private static int status(URI uri, String authorization, String lastEventId) {
        try (SseClient s = SseClient.open(uri, authorization, lastEventId)) {
            return s.status;
        }
    }

    /** The next event that is not a status change (those come whenever the job's status changes). */
    private static SseClient.Event nextEvent(SseClient sse) throws InterruptedException {
        while (true) {
            SseClient.Event e = sse.next(30);
            if (!e.type().equals("status_changed")) return e;
        }
    }

    private static SseClient.Event nextOfType(SseClient sse, String type) throws InterruptedException {
        while (true) {
            SseClient.Event e = sse.next(30);
            if (e.type().equals(type)) return e;
        }
    }

    private static void expectEvent(SseClient.Event e, long job, int counter) {
        assertThat(e.type()).as("event %d", counter).isEqualTo("message");
        assertThat(e.id()).isEqualTo(Integer.toString(counter));
        JsonNode m = Http.json(e.data());
        assertThat(m.get("counter").asInt()).isEqualTo(counter);
        assertThat(m.get("job").asLong()).isEqualTo(job);
        assertThat(m.get("group_name").asText()).isEqualTo("job_events");
    }
}
