package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./jobstream replay JOB_ID --speed N} sends a stored job again, paced, as a new job with the same output. */
class ReplayCommandIT {
    private static final int EVENTS = 40;

    @TempDir
    Path dir;

    @Test
    void replay_sends_a_stored_job_again_at_its_recorded_pace_divided_by_the_speed() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            // a recorded job whose events were created 25 ms apart: 39 gaps = 975 ms recorded
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            StringBuilder body = new StringBuilder();
            for (int c = 1; c <= EVENTS; c++) {
                body.append(Events.event(3, c)
                                .replaceFirst(
                                        "\"created\":\"[^\"]+\"",
                                        "\"created\":\"" + Timestamps.format(t0.plusMillis(25L * (c - 1))) + "\""))
                        .append('\n');
            }
            body.append(Events.eof(3, EVENTS));
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString())
                            .statusCode())
                    .isEqualTo(200);

            StringWriter printed = new StringWriter();
            int exit = Main.commandLine()
                    .setOut(new PrintWriter(printed))
                    .execute(
                            "replay",
                            "3",
                            "--speed",
                            "2",
                            "--as-job",
                            "300",
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString());
            String out = printed.toString();
            assertThat(exit).as(out).isZero();
            JsonNode stats = Http.json(out.substring(out.indexOf('{')));
            assertThat(stats.get("events_total").asInt()).isEqualTo(EVENTS);
            assertThat(stats.get("recording_duration").asDouble()).isEqualTo(0.975);
            // at speed 2 the sends are spread over half the recording: the replay cannot have been faster
            assertThat(stats.get("replay_duration").asDouble()).isGreaterThanOrEqualTo(0.975 / 2 - 0.01);

            Awaitility.await()
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/300/"))
                            .path("event_processing_finished")
                            .asBoolean());
            assertThat(Http.get(node.uri("/api/v2/jobs/300/stdout/?format=txt")).body())
                    .isEqualTo(Http.get(node.uri("/api/v2/jobs/3/stdout/?format=txt"))
                            .body())
                    .isEqualTo(Events.expectedText(3, EVENTS));
        }
    }

    @Test
    void replay_takes_a_fresh_id_from_the_node_so_no_user_can_claim_it_first_and_read_the_replay() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            StringBuilder body = new StringBuilder();
            for (int c = 1; c <= 5; c++) body.append(Events.event(3, c)).append('\n');
            body.append(Events.eof(3, 5));
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString())
                            .statusCode())
                    .isEqualTo(200);
            assertThat(Http.postJson(
                                    node.uri("/api/v2/users/"),
                                    "{\"username\":\"eve\",\"password\":\"eve-pw\"}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
            String eve = TestUsers.basic("eve", "eve-pw");
            // eve tries to claim the ids the old formula would pick now, and the next ones
            long guess = 1_000_000_000L + (System.currentTimeMillis() / 1000 % 1_000_000) * 1000;
            StringBuilder claims = new StringBuilder();
            for (long id = guess; id < guess + 5; id++)
                claims.append(Events.event(id, 1)).append('\n');
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), claims.toString(), eve)
                            .statusCode())
                    .isEqualTo(403);
            assertThat(Http.postJson(node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":" + guess + "}", eve)
                            .statusCode())
                    .isEqualTo(400);
            long eves = Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", eve)
                            .body())
                    .get("job")
                    .asLong();

            StringWriter printed = new StringWriter();
            int exit = Main.commandLine()
                    .setOut(new PrintWriter(printed))
                    .setErr(new PrintWriter(printed))
                    .execute(
                            "replay",
                            "3",
                            "--speed",
                            "100",
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString());
            String out = printed.toString();
            assertThat(exit).as(out).isZero();
            long target = Http.json(out.substring(out.indexOf('{')))
                    .get("replay_job_id")
                    .asLong();
            assertThat(out).contains("as job " + target);
            assertThat(target)
                    .as("a fresh id from the node's sequence")
                    .isGreaterThan(eves)
                    .isLessThan(guess);
            Awaitility.await()
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + target + "/"))
                            .path("event_processing_finished")
                            .asBoolean());
            assertThat(Http.get(node.uri("/api/v2/jobs/" + target + "/stdout/?format=txt"))
                            .body())
                    .isEqualTo(Events.expectedText(3, 5));
            assertThat(Http.get(node.uri("/api/v2/jobs/" + target + "/"), eve).statusCode())
                    .isEqualTo(403);
            assertThat(Http.getJson(node.uri("/api/v2/jobs/" + eves + "/job_events/"))
                            .path("count")
                            .asInt())
                    .isZero();
            assertThat(Http.getJson(node.uri("/api/v2/tokens/")).path("results").toString())
                    .as("the replay's ingest token is gone")
                    .doesNotContain("replay of job 3");
        }
    }

    @Test
    void replaying_a_job_that_does_not_exist_fails_with_a_clear_line() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            StringWriter err = new StringWriter();
            int exit = Main.commandLine()
                    .setErr(new PrintWriter(err))
                    .execute(
                            "replay",
                            "999",
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString());
            assertThat(exit).isEqualTo(1);
            assertThat(err.toString()).contains("jobstream replay: GET").contains("404");
        }
    }
}
