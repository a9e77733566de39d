package io.jobstream.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --demo} as the server starts it: with no playbook to launch, recorded runs are replayed as new jobs
 * through the node's own HTTP ingest, with an ingest token of their own.
 */
class DemoServeIT {
    @TempDir
    Path dir;

    @Test
    void without_playbooks_the_demo_replays_recorded_runs_into_new_jobs_over_ingest() throws Exception {
        Path noPlaybooks = Files.createDirectories(dir.resolve("playbooks"));
        try (RunningServer node = RunningServer.start(
                dir.resolve("data"), Map.of("demo", "true", "playbook-dir", noPlaybooks.toString()))) {
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                JsonNode jobs = Http.json(Http.get(node.uri("/api/v2/jobs/"), TestUsers.ADMIN_AUTH)
                        .body());
                assertThat(jobs.path("results")).anySatisfy(job -> {
                    assertThat(job.path("name").asText()).startsWith("demo: ");
                    assertThat(job.path("stored_events").asInt()).isPositive();
                });
            });
        }
    }
}
