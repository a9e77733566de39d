package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
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

    @TempDir Path dir;

    @Test
    void replay_sends_a_stored_job_again_at_its_recorded_pace_divided_by_the_speed() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            // a recorded job whose events were created 25 ms apart: 39 gaps = 975 ms recorded
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            StringBuilder body = new StringBuilder();
            for (int c = 1; c <= EVENTS; c++) {
                body.append(Events.event(3, c).replaceFirst("\"created\":\"[^\"]+\"",
                        "\"created\":\"" + Timestamps.format(t0.plusMillis(25L * (c - 1))) + "\"")).append('\n');
            }
            body.append(Events.eof(3, EVENTS));
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString()).statusCode()).isEqualTo(200);

            StringWriter printed = new StringWriter();
            int exit = Main.commandLine().setOut(new PrintWriter(printed)).execute("replay", "3", "--speed", "2",
                    "--as-job", "300", "--url", node.uri("/").toString(), "--data-dir", node.dataDir().toString());
            String out = printed.toString();
            assertThat(exit).as(out).isZero();
            JsonNode stats = Http.json(out.substring(out.indexOf('{')));
            assertThat(stats.get("events_total").asInt()).isEqualTo(EVENTS);
            assertThat(stats.get("recording_duration").asDouble()).isEqualTo(0.975);
            // at speed 2 the sends are spread over half the recording: the replay cannot have been faster
            assertThat(stats.get("replay_duration").asDouble()).isGreaterThanOrEqualTo(0.975 / 2 - 0.01);

            Awaitility.await().until(() -> Http.getJson(node.uri("/api/v2/jobs/300/")).path("event_processing_finished")
                    .asBoolean());
            assertThat(Http.get(node.uri("/api/v2/jobs/300/stdout/?format=txt")).body())
                    .isEqualTo(Http.get(node.uri("/api/v2/jobs/3/stdout/?format=txt")).body())
                    .isEqualTo(Events.expectedText(3, EVENTS));
        }
    }

    @Test
    void replaying_a_job_that_does_not_exist_fails_with_a_clear_line() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            StringWriter err = new StringWriter();
            int exit = Main.commandLine().setErr(new PrintWriter(err)).execute("replay", "999", "--url", node.uri("/").toString(), "--data-dir", node.dataDir().toString());
            assertThat(exit).isEqualTo(1);
            assertThat(err.toString()).contains("jobstream replay: GET").contains("404");
        }
    }
}
