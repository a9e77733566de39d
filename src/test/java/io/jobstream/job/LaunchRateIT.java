package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Launch-and-cancel cannot make job rows as fast as HTTP goes (issue 13.3, 13.7 for launches): a user gets
 * {@code jobs.max-launches-per-minute}, then 429 with when to come back; another user is not affected.
 */
class LaunchRateIT {
    @TempDir
    Path dataDir;

    @Test
    void a_user_over_the_launch_rate_gets_429_and_others_still_launch() {
        try (RunningServer node = RunningServer.start(
                dataDir,
                Map.of(
                        "playbook-dir",
                        AnsibleJobs.PLAYBOOKS.toString(),
                        "jobs.max-launches-per-minute",
                        "3",
                        "jobs.max-running",
                        "1",
                        "jobs.max-running-per-user",
                        "1"))) {
            for (String name : new String[] {"dave", "erin"}) {
                assertThat(Http.postJson(
                                        node.uri("/api/v2/users/"),
                                        "{\"username\": \"" + name + "\", \"password\": \"pw\"}",
                                        TestUsers.ADMIN_AUTH)
                                .statusCode())
                        .isEqualTo(201);
            }
            String dave = TestUsers.basic("dave", "pw");
            String body = "{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": 30}}";
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = Http.postJson(node.uri("/api/v2/jobs/"), body, dave);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
                long id = Http.json(r.body()).path("id").asLong();
                // launch and cancel at once: the waiting room stays empty, only the rate can stop this
                assertThat(Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "")
                                .statusCode())
                        .isEqualTo(202);
            }
            HttpResponse<String> over = Http.postJson(node.uri("/api/v2/jobs/"), body, dave);
            assertThat(over.statusCode()).as(over.body()).isEqualTo(429);
            assertThat(Http.json(over.body()).path("detail").asText()).contains("jobs.max-launches-per-minute=3");
            assertThat(Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow()))
                    .isBetween(1L, 60L);
            assertThat(Http.get(node.uri("/metrics")).body()).contains("reason=\"rate\"");
            assertThat(MetricsText.sum(node.uri("/metrics"), "jobs_refused_total"))
                    .isEqualTo(1);

            HttpResponse<String> other = Http.postJson(node.uri("/api/v2/jobs/"), body, TestUsers.basic("erin", "pw"));
            assertThat(other.statusCode()).as(other.body()).isEqualTo(201);
            long id = Http.json(other.body()).path("id").asLong();
            assertThat(Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "")
                            .statusCode())
                    .isEqualTo(202);
            await().atMost(Duration.ofSeconds(60))
                    .until(() ->
                            AnsibleJobs.job(node, id).path("status").asText().equals("canceled"));
        }
    }
}
