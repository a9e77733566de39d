package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RawWebsocket;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestJobs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13.1: memory is bounded in bytes, not in messages. One user owns a job of big events (20 × 1.9 MB) and opens
 * websockets that subscribe with {@code resume} and never read, plus stdout downloads it never reads; the node's heap
 * (measured in this JVM after a GC) stays within what the byte settings allow, and another user's websocket still gets
 * its events. Before, each stalled websocket kept the whole job twice (text and bytes) and each download a page of
 * 1,000 rows: about 1 GB here.
 */
class StalledBigEventsIT {
    /** The abuser's job of big events, allocated by the node in each test (users cannot choose job ids). */
    private long bigJob;

    private static final long SMALL_JOB = 1302;
    private static final int BIG_EVENTS = 20;
    private static final int BIG_STDOUT = 1_900_000;
    private static final int STALLED_SOCKETS = 12;
    private static final int STALLED_DOWNLOADS = 3;
    private static final long PER_CONNECTION = 4L << 20;
    private static final long PER_USER = 16L << 20;
    private static final long PAGE = 4L << 20;
    private static final String ABUSER = TestUsers.basic("abuser", "abuser-pw");

    @TempDir
    Path dataDir;

    @Test
    void stalled_websockets_and_downloads_of_big_events_hold_bounded_memory_and_others_still_get_events()
            throws Exception {
        // long timeouts: the stalled clients must still be connected (and holding what they hold) when measured
        try (RunningServer node = RunningServer.start(
                dataDir,
                Map.of(
                        "http.idle-timeout",
                        "5m",
                        "ws.idle-timeout",
                        "5m",
                        "ws.outbox-max-bytes",
                        "4MiB",
                        "ws.outbox-max-bytes-per-user",
                        "16MiB",
                        "ws.outbox-max-bytes-total",
                        "64MiB",
                        "http.download-page-size",
                        "4MiB",
                        "http.min-response-rate",
                        "0"))) {
            URI metrics = node.uri("/metrics");
            Http.postJson(
                    node.uri("/api/v2/users/"),
                    "{\"username\":\"abuser\",\"password\":\"abuser-pw\"}",
                    TestUsers.ADMIN_AUTH);
            bigJob = TestJobs.allocate(node.uri("/"), ABUSER);
            for (int c = 1; c <= BIG_EVENTS; c++) {
                assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), bigEvent(c), ABUSER)
                                .statusCode())
                        .isEqualTo(200);
            }
            WsTestClient watcher = WsTestClient.connect(node.websocketUri(), "csrftoken=w", TestUsers.ADMIN_AUTH, true);
            watcher.send("{\"xrftoken\":\"w\",\"groups\":{\"job_events\":[" + SMALL_JOB + "]}}");
            long before = heapAfterGc();

            List<RawWebsocket> stalled = new ArrayList<>();
            for (int i = 0; i < STALLED_SOCKETS; i++) {
                RawWebsocket ws = RawWebsocket.connect(
                        node.websocketUri(), Map.of("Authorization", ABUSER, "Cookie", "csrftoken=s"), false);
                ws.sendText("{\"xrftoken\":\"s\",\"groups\":{\"job_events\":[" + bigJob + "]},\"resume\":{\"" + bigJob
                        + "\":0}}");
                stalled.add(ws);
            }
            List<Socket> downloads = new ArrayList<>();
            for (int i = 0; i < STALLED_DOWNLOADS; i++) downloads.add(stalledDownload(node));
            // what a stalled client can take is in the socket buffers by now, the rest is waiting on the node
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> MetricsText.value(metrics, "ws_events_replayed_total") >= STALLED_SOCKETS);
            long peak = 0;
            for (int i = 0; i < 4; i++) { // a measurement: the heap's peak sampled over two seconds of stalling
                Thread.sleep(500);
                peak = Math.max(peak, heapAfterGc());
            }
            double held = MetricsText.value(metrics, "ws_outbox_bytes");

            // the abuser's budget is full, so every other stalled socket holds at most one message (text + bytes)
            long frame = 2L * BIG_STDOUT + 4096;
            long bound = PER_USER
                    + frame // outboxes: the user's budget, plus the one message it may pass it by
                    + 2 * 2 * PER_CONNECTION // the two store readers' pages in flight, rows and frames
                    + STALLED_DOWNLOADS * 2 * (PAGE + BIG_STDOUT) // each download's page, bytes and text
                    + (48L << 20); // slack: Jetty's buffers, metrics, GC noise on a loaded box
            System.out.printf(
                    "StalledBigEventsIT: heap %d MiB before, %d MiB with %d stalled sockets and %d stalled"
                            + " downloads (bound %d MiB); ws_outbox_bytes %.0f MiB%n",
                    before >> 20,
                    peak >> 20,
                    STALLED_SOCKETS,
                    STALLED_DOWNLOADS,
                    (before + bound) >> 20,
                    held / (1 << 20));
            assertThat(peak - before).as("heap growth with stalled clients").isLessThan(bound);
            assertThat(held).as("bytes held for subscribers").isLessThanOrEqualTo(PER_USER + frame);

            // another user's websocket still gets its events, at once
            for (int c = 1; c <= 10; c++) {
                assertThat(Http.post(
                                        node.uri("/api/v2/job_events/ingest/"),
                                        Events.event(SMALL_JOB, c),
                                        TestUsers.ADMIN_AUTH)
                                .statusCode())
                        .isEqualTo(200);
            }
            int next = 1;
            while (next <= 10) {
                JsonNode frameJson = watcher.next();
                if (frameJson.has("counter"))
                    assertThat(frameJson.get("counter").asInt()).isEqualTo(next++);
            }
            for (RawWebsocket ws : stalled) ws.close();
            for (Socket s : downloads) s.close();
            watcher.abort();
        }
    }

    @Test
    void a_download_read_slower_than_the_minimum_rate_is_cut_off() throws Exception {
        try (RunningServer node =
                RunningServer.start(dataDir, Map.of("http.idle-timeout", "5m", "http.min-response-rate", "1MiB"))) {
            Http.postJson(
                    node.uri("/api/v2/users/"),
                    "{\"username\":\"abuser\",\"password\":\"abuser-pw\"}",
                    TestUsers.ADMIN_AUTH);
            bigJob = TestJobs.allocate(node.uri("/"), ABUSER);
            for (int c = 1; c <= 5; c++) {
                assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), bigEvent(c), ABUSER)
                                .statusCode())
                        .isEqualTo(200);
            }
            long start = System.nanoTime();
            try (Socket download = stalledDownload(node)) {
                // 10 KiB/s: slow enough to hold a thread for hours, fast enough that the idle timeout never fires
                InputStream in = download.getInputStream();
                byte[] buf = new byte[1024];
                long read = 0;
                int n = 0;
                try {
                    while ((n = in.read(buf)) >= 0 && System.nanoTime() - start < 60_000_000_000L) {
                        read += n;
                        Thread.sleep(100); // the scenario: a reader at 10 KiB/s (see above)
                    }
                } catch (SocketException reset) {
                    n = -1; // cut off with a reset: what was still buffered for it is dropped
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(
                        "StalledBigEventsIT: slow download cut after %.1f s, %d KiB read%n", seconds, read >> 10);
                assertThat(n).as("the node ended the response").isEqualTo(-1);
                assertThat(seconds).isLessThan(40);
            }
            assertThat(MetricsText.value(node.uri("/metrics"), "http_downloads_too_slow_total"))
                    .isEqualTo(1);
        }
    }

    /** A GET of the big job's ansi_download whose response is never read. */
    private Socket stalledDownload(RunningServer node) throws Exception {
        URI uri = node.uri("/api/v2/jobs/" + bigJob + "/stdout/?format=ansi_download");
        Socket s = new Socket();
        s.setReceiveBufferSize(16 << 10); // before connecting, so that the window stays small
        s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()));
        OutputStream out = s.getOutputStream();
        out.write(("GET " + uri.getRawPath() + "?" + uri.getRawQuery() + " HTTP/1.1\r\nHost: " + uri.getHost()
                        + "\r\nAuthorization: " + ABUSER + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        in.read(new byte[16]); // the response started: the handler is streaming; from here on, nothing is read
        return s;
    }

    private String bigEvent(int counter) {
        StringBuilder stdout = new StringBuilder(BIG_STDOUT + 64);
        while (stdout.length() < BIG_STDOUT)
            stdout.append("event ").append(counter).append(" output line\\r\\n");
        return "{\"job_id\":" + bigJob + ",\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"big-"
                + counter + "\",\"created\":\"" + Timestamps.format(Instant.now()) + "\",\"stdout\":\"" + stdout
                + "\",\"start_line\":" + (counter - 1) + ",\"end_line\":" + counter + ",\"event_data\":{}}";
    }

    private static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
