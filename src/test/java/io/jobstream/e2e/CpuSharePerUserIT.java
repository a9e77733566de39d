package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
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
 * Issue 13 (fair share): one user's requests, one after another and each within every count limit, may not take more
 * than their share of the node's CPU (http.max-cpu-per-user): once they have spent the burst and more, their next
 * request is answered 429 with Retry-After before it runs, another user is served meanwhile, ingest is not held to
 * it, and the share refills. The share here is tiny (0.01 of a core after 50 ms), so that ordinary requests (the
 * cross-job event search, authenticated by Basic each time) exhaust it within a second or two.
 */
class CpuSharePerUserIT {
    private static final long JOB = 41;
    private static final String USER = "mallory";
    private static final String USER_AUTH = TestUsers.basic(USER, "mallory-pw");
    private static final String OTHER = "trent";

    @Test
    void a_user_over_its_cpu_share_gets_429_until_it_refills_while_others_are_served(@TempDir Path dir) {
        try (RunningServer node =
                RunningServer.start(dir, Map.of("http.max-cpu-per-user", "0.01", "http.cpu-burst-per-user", "50ms"))) {
            for (String name : new String[] {USER, OTHER}) {
                assertThat(Http.postJson(
                                        node.uri("/api/v2/users/"),
                                        "{\"username\":\"" + name + "\",\"password\":\"" + name + "-pw\"}",
                                        TestUsers.ADMIN_AUTH)
                                .statusCode())
                        .isEqualTo(201);
            }
            StringBuilder body = new StringBuilder();
            for (int c = 1; c <= 400; c++) body.append(Events.event(JOB, c)).append('\n');
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString())
                            .statusCode())
                    .isEqualTo(200);
            String costly = "/api/v2/job_events/?page_size=200";

            int served = 0;
            HttpResponse<String> refused = null;
            for (int i = 0; i < 2000 && refused == null; i++) {
                HttpResponse<String> r = Http.get(node.uri(costly), USER_AUTH);
                if (r.statusCode() == 429) refused = r;
                else {
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    served++;
                }
            }
            assertThat(refused).as("a 429 after %d requests", served).isNotNull();
            System.out.printf("CpuSharePerUserIT: refused after %d requests served%n", served);
            assertThat(served).as("the burst lets some through first").isPositive();
            assertThat(refused.body()).contains("http.max-cpu-per-user");
            long retryAfter =
                    Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
            assertThat(retryAfter).isBetween(1L, 60L);

            assertThat(Http.get(node.uri(costly), TestUsers.basic(OTHER, "trent-pw"))
                            .statusCode())
                    .as("another user")
                    .isEqualTo(200);
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(JOB + 1, 1) + "\n")
                            .statusCode())
                    .as("ingest is not held to it")
                    .isEqualTo(200);
            assertThat(MetricsText.value(node.uri("/metrics"), "http_refused_total{reason=\"cpu_per_user\""))
                    .isPositive();

            await().atMost(Duration.ofSeconds(retryAfter + 30))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> Http.get(node.uri("/api/v2/me/"), USER_AUTH).statusCode() == 200);
        }
    }
}
