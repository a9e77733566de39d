package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RawWebsocket;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 (fair share): a user whose websocket only ever sends refused messages cannot keep buying the node's CPU.
 * On a real node, with real clients: one user floods subscribes naming 100 jobs it may not see, far over
 * {@code ws.max-subscribes-per-user}; its connection is closed with 1008 once {@code ws.max-refused-messages} is
 * passed, its reconnects are refused for {@code ws.refused-block} (429 before the upgrade with the same credential,
 * 1008 at the handshake with another), the refusals cost no store query (each query is
 * counted, as {@code auth_failures_total{reason="forbidden"}} per job denied), and another user's websocket on the same
 * node gets every event meanwhile.
 */
class RefusedWebsocketIT {
    private static final String TOKEN = "refused";
    private static final int MAX_REFUSED = 20;
    private static final int JOBS_PER_MESSAGE = 100;

    @TempDir
    static Path dataDir;

    static RunningServer node;
    static String mallory;
    static String malloryToken;

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir,
                Map.of(
                        "ws.max-refused-messages",
                        Integer.toString(MAX_REFUSED),
                        "ws.refused-block",
                        "3s",
                        "ws.max-subscribes-per-user",
                        Integer.toString(JOBS_PER_MESSAGE), // one message of 100 jobs per second
                        "ws.max-message-rate",
                        "1000")); // so that what refuses is the subscribe rate, after the message is read
        assertThat(Http.postJson(
                                node.uri("/api/v2/users/"),
                                "{\"username\":\"mallory\",\"password\":\"mallory-pw\"}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(201);
        mallory = TestUsers.basic("mallory", "mallory-pw");
        malloryToken = Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{}", mallory)
                        .body())
                .path("token")
                .asText();
        assertThat(malloryToken).isNotEmpty();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void a_connection_sending_only_refused_subscribes_is_closed_and_its_user_briefly_refused_while_others_are_served()
            throws Exception {
        long job = 71;
        WsTestClient watcher = WsTestClient.connect(node.websocketUri(), "csrftoken=" + TOKEN, true);
        assertThat(watcher.next().path("accept").asBoolean()).isTrue();
        watcher.send("{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"job_events\":[" + job + "]}}");
        assertThat(watcher.next().path("groups_current").toString()).contains("job_events-" + job);

        // a second connection of the abuser, well-behaved: left open when the flooding one is closed
        RawWebsocket quiet = connectAs(mallory);

        StringBuilder ids = new StringBuilder();
        for (int j = 0; j < JOBS_PER_MESSAGE; j++) ids.append(j == 0 ? "" : ",").append(10_000 + j);
        String flood = "{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"job_events\":[" + ids + "]}}";

        double queriedBefore = forbidden();
        double rateBefore = rejected("subscribe_rate");
        double closedBefore = disconnects("refused_messages");
        int posted = 0;
        int sent = 0;
        long started = System.nanoTime();
        try (RawWebsocket abuser = connectAs(mallory)) {
            while (!abuser.closed.isDone() && System.nanoTime() - started < TimeUnit.SECONDS.toNanos(20)) {
                try {
                    abuser.sendText(flood);
                    sent++;
                } catch (IOException closing) {
                    break; // the node closed it between our check and this write
                }
                if (sent % 5 == 0) post(job, ++posted);
                Thread.sleep(2);
            }
            assertThat(abuser.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
            assertThat(abuser.closeReason).contains("ws.max-refused-messages");
            double seconds = (System.nanoTime() - started) / 1e9;

            // the subscribe rate refused at least the threshold's worth before the close, and those cost no query:
            // the only store queries were for the messages the rate let through (one per second, the first at once)
            double refusedForRate = rejected("subscribe_rate") - rateBefore;
            double queriedJobs = forbidden() - queriedBefore;
            assertThat(refusedForRate).isGreaterThanOrEqualTo(MAX_REFUSED - Math.ceil(seconds) - 1);
            assertThat(queriedJobs).isLessThanOrEqualTo(JOBS_PER_MESSAGE * (1 + Math.ceil(seconds)));
            assertThat(queriedJobs % JOBS_PER_MESSAGE).isZero();
            // messages after the threshold were never answered: the connection went after MAX_REFUSED + 1 refusals
            // (denials still queued at the close may be dropped with the connection's outbox)
            long denials = abuser.texts.stream()
                    .filter(t -> t.contains("access denied to channel job_events"))
                    .count();
            assertThat(denials).isLessThanOrEqualTo((long) queriedJobs);
            assertThat(abuser.texts.stream()
                            .filter(t -> t.contains("ws.max-subscribes-per-user"))
                            .count())
                    .isLessThanOrEqualTo(MAX_REFUSED);
            assertThat(seconds).as("closed long before the test's own limit").isLessThan(10);
        }
        assertThat(disconnects("refused_messages") - closedBefore).isEqualTo(1);

        // reconnecting does not reset the count: the same credential is answered 429 before the upgrade (no
        // credential check, no websocket), the user's other credentials are closed at the handshake
        double refusedUserBefore = disconnects("refused_user");
        assertThatThrownBy(() -> RawWebsocket.connect(
                        node.websocketUri(), Map.of("Authorization", mallory, "Cookie", cookie()), true))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("429");
        try (RawWebsocket again = RawWebsocket.connect(
                node.websocketUri(), Map.of("Authorization", "Bearer " + malloryToken, "Cookie", cookie()), true)) {
            assertThat(again.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
            assertThat(again.closeReason).contains("ws.refused-block");
            assertThat(again.texts).noneMatch(t -> t.contains("\"accept\""));
        }
        assertThat(disconnects("refused_user") - refusedUserBefore).isEqualTo(2);

        // the user's other connection was left open and is still answered
        quiet.sendText("{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"jobs\":[\"status_changed\"]}}");
        assertThat(quiet.nextText(5)).contains("groups_current");
        quiet.close();

        // and once the block is over, the user connects again
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptions()
                .untilAsserted(() -> {
                    try (RawWebsocket back = connectAs(mallory)) {
                        assertThat(back.closed).isNotDone();
                    }
                });

        // the well-behaved user got every event, during the flood and after
        for (int i = 0; i < 5; i++) post(job, ++posted);
        int expected = posted;
        Set<Integer> counters = new TreeSet<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            for (String f; (f = watcher.frames.poll()) != null; ) {
                JsonNode n = Http.json(f);
                if (n.has("counter") && n.path("job").asLong() == job)
                    counters.add(n.get("counter").asInt());
            }
            return counters.size() == expected;
        });
        assertThat(counters).hasSize(expected).contains(1, expected);
        watcher.abort();
    }

    private static String cookie() {
        return "csrftoken=" + TOKEN;
    }

    private static RawWebsocket connectAs(String authorization) throws Exception {
        RawWebsocket ws = RawWebsocket.connect(
                node.websocketUri(), Map.of("Authorization", authorization, "Cookie", cookie()), true);
        assertThat(ws.nextText(5)).contains("\"accept\":true");
        return ws;
    }

    private static void post(long job, int counter) {
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(job, counter))
                        .statusCode())
                .isEqualTo(200);
    }

    /** Jobs a subscribe was denied after its one store query (each denial counted, as one by one). */
    private static double forbidden() {
        return MetricsText.value(node.uri("/metrics"), "auth_failures_total{reason=\"forbidden\"");
    }

    private static double rejected(String reason) {
        return MetricsText.value(node.uri("/metrics"), "ws_messages_rejected_total{reason=\"" + reason + "\"");
    }

    private static double disconnects(String reason) {
        return MetricsText.value(node.uri("/metrics"), "ws_disconnects_total{reason=\"" + reason + "\"");
    }
}
