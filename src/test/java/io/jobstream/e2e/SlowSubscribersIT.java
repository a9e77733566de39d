package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.StreamClient;
import io.jobstream.testing.TestUsers;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 50 subscribers read a job streaming at 5,000 events/s for 20 s while 2 more never read: the 50 get every event in
 * order, the node's queues stay bounded, and the 2, once they read again, get the whole stream without a gap (caught
 * up from the store). Lag with and without the 2 is compared in bench/fanout, not here.
 */
class SlowSubscribersIT {
    private static final long JOB = 501;
    private static final int RATE = 5_000;
    private static final int SECONDS = Integer.getInteger("slow.seconds", 20);
    private static final int EVENTS = RATE * SECONDS;
    private static final int PER_POST = 100;
    private static final int CAPACITY = 10_000;

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dataDir;

    @Test
    void readers_get_everything_in_order_and_the_two_slow_ones_are_caught_up_without_a_gap() throws Exception {
        // the stalled clients read nothing for the whole run, which on a loaded machine takes longer than the
        // idle timeout that closes a websocket accepting no bytes (ws.idle-timeout, the hard safety net); here they
        // must survive it
        try (RunningServer server =
                RunningServer.start(dataDir, Map.of("http.idle-timeout", "5m", "ws.idle-timeout", "5m"))) {
            URI metrics = server.uri("/metrics");
            String subscribe = "{\"xrftoken\":\"s\",\"groups\":{\"job_events\":[" + JOB + "]}}";
            List<StreamClient> readers = new ArrayList<>();
            for (int i = 0; i < 50; i++)
                readers.add(StreamClient.connect(server.websocketUri(), "csrftoken=s", true, 0, null));
            List<StreamClient> slow = new ArrayList<>();
            for (int i = 0; i < 2; i++)
                slow.add(StreamClient.connect(server.websocketUri(), "csrftoken=s", false, 0, null));
            for (StreamClient c : readers) c.send(subscribe);
            for (StreamClient c : slow) c.send(subscribe);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> MetricsText.value(metrics, "hub_subscriptions{group=\"job_events\"") == 52);

            URI ingest = server.uri("/api/v2/job_events/ingest/");
            List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
            Semaphore inFlight = new Semaphore(8);
            double maxDepth = 0;
            long maxHeap = 0;
            long start = System.nanoTime();
            for (int from = 1; from <= EVENTS; from += PER_POST) {
                StringBuilder body = new StringBuilder();
                for (int c = from; c < from + PER_POST; c++)
                    body.append(Events.event(JOB, c)).append('\n');
                // without waiting for the reply (it comes after the commit): requests overlap, as several
                // emitters' would, and their events may be committed out of counter order
                inFlight.acquire(); // a few emitters' worth, not an unbounded pile of requests
                posts.add(HTTP.sendAsync(
                                HttpRequest.newBuilder(ingest)
                                        .header("Authorization", TestUsers.ADMIN_AUTH)
                                        .POST(BodyPublishers.ofString(body.toString()))
                                        .build(),
                                BodyHandlers.ofString())
                        .whenComplete((r, e) -> inFlight.release()));
                long due = start + (long) (from + PER_POST - 1) * 1_000_000_000L / RATE;
                long wait = due - System.nanoTime();
                if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000)); // pacing at RATE: the scenario
                if (from % (RATE * 2) == 1) { // every 2 s
                    maxDepth = Math.max(maxDepth, MetricsText.value(metrics, "ws_outbox_depth_max"));
                    maxHeap = Math.max(
                            maxHeap,
                            ManagementFactory.getMemoryMXBean()
                                    .getHeapMemoryUsage()
                                    .getUsed());
                }
            }
            for (CompletableFuture<HttpResponse<String>> post : posts) {
                HttpResponse<String> r = post.get(2, TimeUnit.MINUTES);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
            double postSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    "SlowSubscribersIT: posted in %.1f s; readers at %s; catch-ups overflow %.0f gap %.0f;"
                            + " replayed %.0f%n",
                    postSeconds,
                    readers.stream().mapToInt(StreamClient::last).summaryStatistics(),
                    MetricsText.value(metrics, "ws_catchups_total{reason=\"overflow\""),
                    MetricsText.value(metrics, "ws_catchups_total{reason=\"gap\""),
                    MetricsText.value(metrics, "ws_events_replayed_total"));
            Http.post(server.uri("/api/v2/job_events/ingest/"), Events.eof(JOB, EVENTS));

            await().atMost(Duration.ofSeconds(60)).until(() -> readers.stream().allMatch(c -> c.last() == EVENTS));
            for (StreamClient c : readers) {
                assertThat(c.violation()).as("order").isNull();
                assertThat(c.events()).isEqualTo(EVENTS);
            }
            assertThat(maxDepth).as("no subscriber's queue beyond its capacity").isLessThanOrEqualTo(CAPACITY);
            assertThat(MetricsText.value(metrics, "ws_over_capacity_total{group=\"job_events\""))
                    .isGreaterThanOrEqualTo(2);
            assertThat(MetricsText.value(metrics, "ws_disconnects_total"))
                    .as("nobody disconnected")
                    .isZero();
            assertThat(slow).allMatch(c -> c.last() < EVENTS);

            for (StreamClient c : slow) c.startReading();
            await().atMost(Duration.ofSeconds(60)).until(() -> slow.stream().allMatch(c -> c.last() == EVENTS));
            for (StreamClient c : slow) {
                assertThat(c.violation()).as("order after catching up").isNull();
                assertThat(c.events()).isEqualTo(EVENTS);
            }
            System.gc();
            long heapAfter =
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            System.out.printf(
                    "SlowSubscribersIT: posted %d events in %.1f s; outbox max %.0f; heap max sampled %d MiB,"
                            + " after GC %d MiB; over capacity %s%n",
                    EVENTS,
                    postSeconds,
                    maxDepth,
                    maxHeap >> 20,
                    heapAfter >> 20,
                    MetricsText.value(metrics, "ws_over_capacity_total{group=\"job_events\""));
            // the events alone would take ~45 MiB per subscriber if anything kept them all
            assertThat(heapAfter).as("heap after GC").isLessThan(400L << 20);
        }
    }
}
