package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.StreamClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ten browsers resume the same stored job at once (after a node restart, every viewer of a job reconnects with
 * {@code resume}): each gets every event exactly once and in order, and the node reads the job from PostgreSQL about
 * once between them, not ten times ({@code ws_catchup_reads_total{from="shared"}}: websocket.SharedReads). Real node,
 * real PostgreSQL, real websockets. Counts reads, never times them.
 */
class ResumeStormIT {
    private static final long JOB = 611;
    private static final int EVENTS = 20_000;
    private static final int VIEWERS = 10;

    @TempDir
    Path dataDir;

    @Test
    void viewers_resuming_one_job_together_share_its_store_reads_and_each_get_it_whole() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir)) {
            URI ingest = server.uri("/api/v2/job_events/ingest/");
            for (int from = 1; from <= EVENTS; from += 1000) {
                StringBuilder body = new StringBuilder();
                for (int c = from; c < from + 1000; c++)
                    body.append(Events.event(JOB, c)).append('\n');
                assertThat(Http.post(ingest, body.toString()).statusCode()).isEqualTo(200);
            }
            URI metrics = server.uri("/metrics");
            double storeBefore = MetricsText.value(metrics, "ws_catchup_reads_total{from=\"store\"");

            List<StreamClient> viewers = new ArrayList<>();
            for (int v = 0; v < VIEWERS; v++) {
                StreamClient client = StreamClient.connect(server.websocketUri(), "csrftoken=s", true, 0, frame -> {});
                viewers.add(client);
            }
            for (StreamClient client : viewers) {
                client.send("{\"xrftoken\":\"s\",\"groups\":{\"job_events\":[" + JOB + "]},\"resume\":{\"" + JOB
                        + "\":0}}");
            }
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> viewers.stream().allMatch(c -> c.last() == EVENTS || c.violation() != null));
            for (StreamClient client : viewers) {
                assertThat(client.violation()).isNull();
                assertThat(client.events()).isEqualTo(EVENTS);
                client.abort();
            }

            double store = MetricsText.value(metrics, "ws_catchup_reads_total{from=\"store\"") - storeBefore;
            double shared = MetricsText.value(metrics, "ws_catchup_reads_total{from=\"shared\"");
            // a page is at most 500 events: 40 pages a viewer, 400 reads for ten viewers reading alone
            int alone = VIEWERS * EVENTS / 500;
            System.out.printf(
                    "ResumeStormIT: %d viewers x %d events: %.0f pages from the store, %.0f shared (alone: >= %d)%n",
                    VIEWERS, EVENTS, store, shared, alone);
            assertThat(shared).as("pages answered from another viewer's read").isPositive();
            assertThat(store).as("pages read from PostgreSQL").isLessThan(alone / 2.0);
        }
    }
}
