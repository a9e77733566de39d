package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clients that stall or trickle (slowloris) are cut off, and the node serves everyone else meanwhile. */
class SlowClientIT {
    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(dataDir, Map.of("http.idle-timeout", "1s", "http.min-request-rate", "1KiB"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void a_client_that_stops_in_the_middle_of_its_headers_is_disconnected_while_others_are_served() throws Exception {
        try (Socket stalled = connect()) {
            stalled.getOutputStream()
                    .write(("POST /api/v2/job_events/ingest/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                                    + TestUsers.ADMIN_AUTH + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(61, 1))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(readUntilClosed(stalled.getInputStream()))
                    .as("the server ends the stalled connection")
                    .isNotNull();
        }
    }

    @Test
    void a_body_trickling_in_slower_than_the_minimum_rate_is_cut_off_and_nothing_of_it_is_stored() throws Exception {
        String line = Events.event(62, 1) + "\n";
        byte[] body = (line.repeat(200)).getBytes(StandardCharsets.UTF_8); // ~60 KB, sent at ~100 bytes/s
        Trickled t = trickle("/api/v2/job_events/ingest/", "application/x-ndjson", body);
        assertThat(t.lastSent()).as("cut off long before the whole body went").isLessThan(body.length / 2);
        // the answer is 408 with the reason, unless the connection went down first
        if (!t.answer().startsWith("connection closed")) {
            assertThat(t.answer()).startsWith("HTTP/1.1 408").contains("request body not received");
        }
        assertThat(Http.get(node.uri("/api/v2/jobs/62/")).statusCode()).isEqualTo(404);
        assertThat(Http.get(node.uri("/api/v2/health/")).statusCode()).isEqualTo(200);
    }

    @Test
    void a_rest_body_trickling_in_is_cut_off_with_408_and_its_reason_not_a_500() throws Exception {
        byte[] body = ("{\"username\":\"trickle\",\"password\":\"" + "p".repeat(300) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        String answer = trickle("/api/v2/users/", "application/json", body).answer();
        if (!answer.startsWith("connection closed")) {
            assertThat(answer).startsWith("HTTP/1.1 408").contains("request body not received");
        }
        assertThat(Http.get(node.uri("/api/v2/users/?username=trickle")).body()).contains("\"count\":0");
    }

    /** What the node answered a POST whose body went at ~100 bytes/s, and the offset of the last piece sent. */
    private record Trickled(String answer, int lastSent) {}

    /** POSTs {@code body} as admin in 20-byte pieces 200 ms apart, until the node answers or closes. */
    private static Trickled trickle(String path, String contentType, byte[] body) throws Exception {
        try (Socket slow = connect()) {
            OutputStream out = slow.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + TestUsers.ADMIN_AUTH
                            + "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = null;
            int last = 0;
            try {
                for (int sent = 0; sent < body.length && answer == null; sent += 20) {
                    out.write(body, sent, Math.min(20, body.length - sent));
                    out.flush();
                    last = sent;
                    Thread.sleep(200); // the scenario: a client that sends its body at ~100 bytes/s
                    if (slow.getInputStream().available() > 0) answer = readUntilClosed(slow.getInputStream());
                }
            } catch (java.io.IOException reset) {
                answer = "connection closed by the server: " + reset.getMessage();
            }
            if (answer == null) answer = readUntilClosed(slow.getInputStream());
            return new Trickled(answer, last);
        }
    }

    private static Socket connect() throws Exception {
        Socket s = new Socket("127.0.0.1", node.uri("/").getPort());
        s.setSoTimeout(30_000); // far above the node's 1 s: a read that times out means the node never closed
        return s;
    }

    /** Everything the server sends until it closes the connection ("" if it closed without a word). */
    private static String readUntilClosed(InputStream in) throws Exception {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        } catch (SocketTimeoutException stillOpen) {
            return null;
        } catch (java.io.IOException reset) {
            // a reset is the server closing too
        }
        return sb.toString();
    }
}
