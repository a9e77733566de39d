package io.jobstream.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 (neighbours): one user's requests in progress are bounded (http.max-requests-per-user), and so are their
 * stdout responses (http.max-downloads-per-user): the next one is answered 429 with Retry-After at once, other users
 * are served, and the places come back when the held requests end. Requests are held in progress by downloads of a
 * 16 MB stdout that the client never reads.
 */
class RequestsPerUserIT {
    private static final long JOB = 77;
    private static final String USER = "judy";
    private static final String USER_AUTH = TestUsers.basic(USER, "judy-pw");

    @Test
    void a_user_with_all_its_requests_in_progress_gets_429_others_are_served_and_places_come_back(@TempDir Path dir)
            throws Exception {
        try (Node node = new Node(dir, "2", "10")) {
            node.stall(2);
            HttpResponse<String> refused = await().atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> Http.get(node.server.uri("/api/v2/me/")), r -> r.statusCode() == 429);
            assertThat(refused.headers().firstValue("Retry-After")).contains("1");
            assertThat(refused.body()).contains("http.max-requests-per-user");
            assertThat(Http.get(node.server.uri("/api/v2/me/"), USER_AUTH).statusCode())
                    .as("another user")
                    .isEqualTo(200);
            assertThat(Http.post(node.server.uri("/api/v2/job_events/ingest/"), events(JOB + 1, 1, 1))
                            .statusCode())
                    .as("ingest is not held to it")
                    .isEqualTo(200);
            assertThat(MetricsText.value(
                            node.server.uri("/metrics"), "http_refused_total{reason=\"requests_per_user\""))
                    .isPositive();

            node.release();
            await().atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> Http.get(node.server.uri("/api/v2/me/")).statusCode() == 200);
        }
    }

    @Test
    void a_user_with_its_downloads_in_progress_gets_429_for_one_more_and_other_requests_pass(@TempDir Path dir)
            throws Exception {
        try (Node node = new Node(dir, "8", "1")) {
            node.stall(1);
            HttpResponse<String> refused = await().atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(100))
                    .until(
                            () -> Http.get(node.server.uri("/api/v2/jobs/" + JOB + "/stdout/?format=txt")),
                            r -> r.statusCode() == 429);
            assertThat(refused.headers().firstValue("Retry-After")).contains("1");
            assertThat(refused.body()).contains("http.max-downloads-per-user");
            assertThat(Http.get(node.server.uri("/api/v2/me/")).statusCode())
                    .as("not a download")
                    .isEqualTo(200);
            assertThat(MetricsText.value(
                            node.server.uri("/metrics"), "http_refused_total{reason=\"downloads_per_user\""))
                    .isPositive();

            node.release();
            await().atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(200))
                    .until(
                            () -> Http.get(node.server.uri("/api/v2/jobs/" + JOB + "/stdout/?format=txt"))
                                    .statusCode(),
                            s -> s != 429);
        }
    }

    /** A node with a 16 MB job, a second user, and the admin's stalled downloads. */
    private static final class Node implements AutoCloseable {
        final RunningServer server;
        final List<Socket> stalled = new ArrayList<>();

        Node(Path dir, String maxRequests, String maxDownloads) {
            server = RunningServer.start(
                    dir,
                    Map.of("http.max-requests-per-user", maxRequests, "http.max-downloads-per-user", maxDownloads));
            assertThat(Http.postJson(
                                    server.uri("/api/v2/users/"),
                                    "{\"username\":\"" + USER + "\",\"password\":\"judy-pw\"}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), events(JOB, 1, 16))
                            .statusCode())
                    .isEqualTo(200);
        }

        /** Starts {@code n} downloads of the big stdout as the admin and never reads them. */
        void stall(int n) throws IOException {
            for (int i = 0; i < n; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096); // before connecting, so the window stays small
                s.connect(
                        new java.net.InetSocketAddress(
                                "127.0.0.1", server.uri("/").getPort()),
                        5_000);
                s.getOutputStream()
                        .write(("GET /api/v2/jobs/" + JOB + "/stdout/?format=txt_download HTTP/1.1\r\n"
                                        + "Host: x\r\nAuthorization: " + TestUsers.ADMIN_AUTH + "\r\n\r\n")
                                .getBytes(US_ASCII));
                s.getOutputStream().flush();
                stalled.add(s);
            }
        }

        void release() throws IOException {
            for (Socket s : stalled) {
                s.setSoLinger(true, 0); // reset: the node's blocked write fails at once
                s.close();
            }
            stalled.clear();
        }

        @Override
        public void close() throws IOException {
            release();
            server.close();
        }
    }

    /** NDJSON events {@code from..to} of {@code job}, each with 1 MB of stdout. */
    private static String events(long job, int from, int to) {
        String stdout = "z".repeat(1 << 20);
        StringBuilder body = new StringBuilder();
        for (int c = from; c <= to; c++) {
            body.append("{\"job_id\":")
                    .append(job)
                    .append(",\"counter\":")
                    .append(c)
                    .append(",\"event\":\"runner_on_ok\",\"uuid\":\"big-")
                    .append(job)
                    .append('-')
                    .append(c)
                    .append("\",\"stdout\":\"")
                    .append(stdout)
                    .append("\",\"start_line\":")
                    .append(c - 1)
                    .append(",\"end_line\":")
                    .append(c)
                    .append("}\n");
        }
        return body.toString();
    }
}
