package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestJobs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12.5: the websocket {@code jobs} group ({@code status_changed}, {@code summary}) carries only jobs the
 * subscriber may see: alice never hears of bob's job, while the admin hears of both; over a real node and websockets.
 */
class JobsGroupIT {
    private static final String ALICE = TestUsers.basic("alice", "alice-pw");
    private static final String BOB = TestUsers.basic("bob", "bob-pw");

    @TempDir
    Path dataDir;

    @Test
    void issue12_jobs_messages_reach_only_subscribers_who_may_see_the_job() throws Exception {
        try (RunningServer node = RunningServer.start(dataDir)) {
            for (String user : List.of("alice", "bob")) {
                assertThat(Http.postJson(
                                        node.uri("/api/v2/users/"),
                                        "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                                        TestUsers.ADMIN_AUTH)
                                .statusCode())
                        .isEqualTo(201);
            }
            WsTestClient alice = subscribe(node, ALICE);
            WsTestClient admin = subscribe(node, TestUsers.ADMIN_AUTH);
            long bobs = TestJobs.allocate(node.uri("/"), BOB);
            long alices = TestJobs.allocate(node.uri("/"), ALICE);
            ingest(node, BOB, bobs);
            ingest(node, ALICE, alices);

            List<JsonNode> aliceHeard = untilSummariesOf(node, alice, Set.of(alices));
            assertThat(aliceHeard)
                    .extracting(f -> f.path("unified_job_id").asLong())
                    .contains(alices)
                    .doesNotContain(bobs);
            // the two jobs' messages in either order: each (user, job) is looked up on its own, so one job's may
            // overtake the other's (each job's own stay in order)
            List<JsonNode> adminHeard = untilSummariesOf(node, admin, Set.of(bobs, alices));
            assertThat(adminHeard)
                    .extracting(f -> f.path("unified_job_id").asLong())
                    .contains(alices, bobs);
            // bob's job's messages have gone out to the admin; anything of it alice was sent is queued by now
            Thread.sleep(500);
            List<String> aliceLater = new ArrayList<>(alice.frames);
            assertThat(aliceLater)
                    .extracting(f -> Http.json(f).path("unified_job_id").asLong())
                    .doesNotContain(bobs);
            alice.abort();
            admin.abort();
        }
    }

    private static WsTestClient subscribe(RunningServer node, String auth) throws Exception {
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=jobs", auth, true);
        ws.send("{\"xrftoken\":\"jobs\",\"groups\":{\"jobs\":[\"status_changed\",\"summary\"]}}");
        for (JsonNode f = ws.next(); !f.has("groups_current"); f = ws.next()) {
            assertThat(f.has("error")).as(f.toString()).isFalse();
        }
        return ws;
    }

    private static void ingest(RunningServer node, String auth, long job) {
        String body = Events.event(job, 1) + "\n" + Events.event(job, 2) + "\n" + Events.eof(job, 2) + "\n";
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body, auth).statusCode())
                .isEqualTo(200);
    }

    /** The jobs messages a subscriber gets up to and including the summaries of all of {@code jobs}. */
    private static List<JsonNode> untilSummariesOf(RunningServer node, WsTestClient ws, Set<Long> jobs)
            throws Exception {
        List<JsonNode> heard = new ArrayList<>();
        List<String> others = new ArrayList<>();
        Set<Long> waiting = new TreeSet<>(jobs);
        while (true) {
            String frame = ws.frames.poll(30, TimeUnit.SECONDS);
            if (frame == null) { // what the node says of it, for the CI log
                throw new AssertionError("no summary of jobs " + waiting + " within 30 s of the last frame; heard "
                        + heard
                        + "; other frames: " + others + "; socket: "
                        + (ws.closed.isDone()
                                ? "closed "
                                        + ws.closed
                                                .handle((code, e) -> e != null ? e.toString() : String.valueOf(code))
                                                .join()
                                : "open")
                        + "; jobs frames dropped: "
                        + MetricsText.sum(node.uri("/metrics"), "ws_jobs_frames_dropped_total") + "; disconnects: "
                        + MetricsText.sum(node.uri("/metrics"), "ws_disconnects_total") + "; job: "
                        + Http.get(node.uri("/api/v2/jobs/" + waiting.iterator().next() + "/"))
                                .body());
            }
            JsonNode f = Http.json(frame);
            if (!f.path("group_name").asText().equals("jobs")) {
                others.add(frame.length() > 200 ? frame.substring(0, 200) + "…" : frame);
                continue;
            }
            heard.add(f);
            if (f.has("final_counter")) waiting.remove(f.path("unified_job_id").asLong());
            if (waiting.isEmpty()) return heard;
        }
    }
}
