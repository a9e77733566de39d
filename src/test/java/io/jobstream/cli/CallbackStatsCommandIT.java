package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./jobstream callback-stats} counts the rows a real node stored in the last minute, duplicates excluded. */
class CallbackStatsCommandIT {
    @TempDir
    Path dir;

    @Test
    void callback_stats_prints_rows_stored_in_the_last_minute_without_duplicates() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            String first = events(1, 200);
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), first).statusCode())
                    .isEqualTo(200);
            StringWriter printed = new StringWriter();
            CompletableFuture<Integer> stats = CompletableFuture.supplyAsync(() -> Main.commandLine()
                    .setOut(new PrintWriter(printed))
                    .execute("callback-stats", "--url", node.uri("/").toString(), "--duration", "3s", "--no-redraw"));
            // its first block is printed once it has read the counter it counts from
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> printed.toString().contains("\u21b3  last minute"));
            // 300 new rows, plus the first 200 again: duplicates are not stored rows
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), events(201, 500))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), first).statusCode())
                    .isEqualTo(200);
            assertThat(stats.get()).isZero();
            List<String> counts = printed.toString()
                    .lines()
                    .filter(l -> l.startsWith("\u21b3  last minute"))
                    .collect(Collectors.toList());
            assertThat(counts).isNotEmpty();
            assertThat(counts.get(counts.size() - 1)).startsWith("\u21b3  last minute 300 (over ");
        }
    }

    @Test
    void a_counter_is_summed_over_its_labelled_series() {
        String text = "# TYPE events_stored_total counter\nevents_stored_total{node=\"a\"} 2.0\n"
                + "events_stored_total{node=\"b\"} 3.0\nevents_stored_totally 9\n";
        assertThat(CallbackStatsCommand.counter(text, "events_stored_total")).isEqualTo(5.0);
    }

    private static String events(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(c -> Events.event(4, c)).collect(Collectors.joining("\n"));
    }
}
