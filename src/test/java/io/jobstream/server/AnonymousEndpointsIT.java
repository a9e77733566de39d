package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.javalin.Javalin;
import io.jobstream.auth.Access;
import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.HealthCheck;
import io.jobstream.postgres.Database;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Issue 12.5: what the routes open to anyone show. Every GET route whose rule is {@link Access#ANONYMOUS} (read from
 * the running node) is fetched without credentials after job content, a rejected line and a failed login all carried
 * a marker: the marker appears in none of them. Health with its database gone says "unreachable", not the driver's
 * message (which names the host, port and user).
 */
class AnonymousEndpointsIT {
    private static final String MARKER = "zq-secret-7731";

    @TempDir
    Path dataDir;

    @Test
    void anonymous_routes_show_states_and_counts_never_job_content_or_error_texts() throws Exception {
        try (RunningServer node = RunningServer.start(dataDir)) {
            String event = "{\"job_id\":71,\"counter\":1,\"event\":\"runner_on_failed\",\"stdout\":\"" + MARKER
                    + "\",\"event_data\":{\"host\":\"" + MARKER + "\",\"task\":\"" + MARKER + "\",\"res\":{\"msg\":\""
                    + MARKER + "\"}}}\n{\"job_id\":71,\"counter\":\"" + MARKER + "\"}\n";
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), event, TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(200);
            assertThat(Http.get(node.uri("/api/v2/me/"), TestUsers.basic(MARKER, MARKER))
                            .statusCode())
                    .isEqualTo(401);
            SoftAssertions soft = new SoftAssertions();
            int checked = 0;
            for (Server.Route r : node.routes()) {
                if (!r.method().equals("GET") || Access.of(r.roles()) != Access.ANONYMOUS) continue;
                String path = r.path().replace("<path>", r.path().contains("jquery") ? "jquery.min.js" : "app.css");
                HttpResponse<String> response = Http.get(node.uri(path));
                soft.assertThat(response.statusCode()).as(path).isBetween(200, 299);
                soft.assertThat(response.body()).as(path).doesNotContain(MARKER);
                checked++;
            }
            assertThat(checked).as("anonymous GET routes").isGreaterThanOrEqualTo(5);
            soft.assertAll();
        }
    }

    @Test
    void health_says_unreachable_without_the_drivers_message() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        PGSimpleDataSource gone = new PGSimpleDataSource();
        gone.setUrl(
                "jdbc:postgresql://127.0.0.1:" + closedPort + "/" + MARKER + "?user=" + MARKER + "&connectTimeout=2");
        MemoryEventQueue queue = new MemoryEventQueue(10, 1 << 20);
        Map<String, HealthCheck> checks = new LinkedHashMap<>();
        checks.put("database", () -> Database.check(gone));
        checks.put("receiver", () -> CheckResult.failed("stopped"));
        checks.put("redis", () -> CheckResult.failed("unreachable"));
        checks.put("queue", queue::check);
        HealthEndpoint health = new HealthEndpoint(checks, queue::depth);
        Javalin http = Javalin.create(cfg -> health.register(cfg.routes)).start("127.0.0.1", 0);
        try {
            HttpResponse<String> r = Http.get(URI.create("http://127.0.0.1:" + http.port() + "/api/v2/health/"));
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(Http.json(r.body()).path("checks"))
                    .isEqualTo(
                            Http.json(
                                    "{\"database\":\"unreachable\",\"receiver\":\"stopped\",\"redis\":\"unreachable\",\"queue\":\"ok\"}"));
            assertThat(r.body()).doesNotContain(MARKER).doesNotContain(Integer.toString(closedPort));
        } finally {
            http.stop();
        }
    }
}
