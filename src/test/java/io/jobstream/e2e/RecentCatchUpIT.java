package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.event.Timestamps;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RawWebsocket;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.StreamClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A viewer that stops reading for a moment while a job streams overflows its outbox and is caught up from the live
 * frames the node delivered a moment ago ({@code ws_catchup_reads_total{from="recent"}}, websocket.RecentFrames),
 * then goes on live: it gets every event exactly once and in order, as does a viewer that never paused. Real node,
 * PostgreSQL and websockets; counts reads, never times them.
 */
class RecentCatchUpIT {
    private static final long JOB = 621;
    private static final int EVENTS = 8_000;
    private static final int PER_POST = 200;
    private static final int RESUME_AFTER = 4_000;
    /** 4 KB of output per event: 32 MB in all, far more than the loopback socket buffers hold for a paused reader. */
    private static final String PADDING = "x".repeat(4096);

    @TempDir
    Path dataDir;

    private RawWebsocket closing;

    @AfterEach
    void close() throws Exception {
        if (closing != null) closing.close();
    }

    private static String event(int counter) {
        return "{\"job_id\":" + JOB + ",\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"" + JOB + "-"
                + counter + "\",\"created\":\"" + Timestamps.format(Instant.now()) + "\",\"stdout\":\"line " + counter
                + " " + PADDING + "\",\"start_line\":" + (counter - 1)
                + ",\"end_line\":" + counter + ",\"event_data\":{\"host\":\"h\",\"task\":\"t\"}}";
    }

    @Test
    void a_viewer_that_pauses_is_caught_up_from_the_recent_live_frames_and_loses_nothing() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir, Map.of("ws.outbox-capacity", "100"))) {
            URI metrics = server.uri("/metrics");
            String subscribe = "{\"xrftoken\":\"s\",\"groups\":{\"job_events\":[" + JOB + "]}}";
            StreamClient steady = StreamClient.connect(server.websocketUri(), "csrftoken=s", true, 0, null);
            // a bare socket that stops reading stalls the node's writes to it (the JDK's client buffers for a
            // listener that asks for nothing, so the node would not see a pause)
            RawWebsocket paused = RawWebsocket.connect(server.websocketUri(), Map.of("Cookie", "csrftoken=s"), false);
            closing = paused;
            steady.send(subscribe);
            paused.sendText(subscribe);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> MetricsText.value(metrics, "hub_subscriptions{group=\"job_events\"") == 2);

            URI ingest = server.uri("/api/v2/job_events/ingest/");
            for (int from = 1; from <= EVENTS; from += PER_POST) {
                StringBuilder body = new StringBuilder();
                for (int c = from; c < from + PER_POST; c++)
                    body.append(event(c)).append('\n');
                // one post at a time: the events are committed, and their frames delivered, in counter order
                assertThat(Http.post(ingest, body.toString()).statusCode()).isEqualTo(200);
                // the paused viewer reads again after 16 MB: the socket buffers took about 10 of them, its outbox
                // filled and overflowed, and more frames went by after that than it keeps aside itself (as many as
                // its outbox holds), all within the last few seconds
                if (from + PER_POST - 1 == RESUME_AFTER) paused.startReading();
            }
            // what is kept is counted: right after the last post, its frames and those before it are there
            double keptAfterPosting = MetricsText.value(metrics, "ws_recent_frames_bytes");

            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> steady.last() == EVENTS || steady.violation() != null);
            assertThat(steady.violation()).as("order").isNull();
            assertThat(steady.events()).as("each event once").isEqualTo(EVENTS);
            int expected = 1;
            while (expected <= EVENTS) {
                String frame = paused.nextText(60);
                assertThat(frame)
                        .as("event %d for the viewer that paused", expected)
                        .isNotNull();
                if (!frame.contains("\"counter\":")) continue; // the groups reply
                assertThat(StreamClient.counterOf(frame)).as("in order, once").isEqualTo(expected++);
            }
            String extra = paused.nextText(1);
            assertThat(extra == null || !extra.contains("\"counter\":"))
                    .as("nothing twice: %s", extra)
                    .isTrue();
            double recent = MetricsText.value(metrics, "ws_catchup_reads_total{from=\"recent\"");
            double store = MetricsText.value(metrics, "ws_catchup_reads_total{from=\"store\"");
            System.out.printf(
                    "RecentCatchUpIT: catch-ups %.0f; pages from recent frames %.0f, from the store %.0f; replayed %.0f%n",
                    MetricsText.value(metrics, "ws_catchups_total{reason=\"overflow\""),
                    recent,
                    store,
                    MetricsText.value(metrics, "ws_events_replayed_total"));
            assertThat(recent).as("pages answered from the recent live frames").isPositive();
            assertThat(keptAfterPosting)
                    .as("ws_recent_frames_bytes")
                    .isPositive()
                    .isLessThanOrEqualTo(64 << 20);
            assertThat(MetricsText.value(metrics, "ws_disconnects_total")).isZero();
        }
    }
}
