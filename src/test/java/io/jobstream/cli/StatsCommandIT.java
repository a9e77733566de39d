package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.WsTestClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./jobstream stats --url}: a real node's live state, as text and as JSON. (The cluster view: ClusterIT.) */
class StatsCommandIT {
    @TempDir
    Path dir;

    private static String run(String... args) {
        StatsCommand command = new StatsCommand();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertThat(new CommandLine(command).execute(args)).isZero();
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void stats_of_one_node_show_its_receiver_queue_and_ingest_counts() {
        try (RunningServer node = RunningServer.start(dir)) {
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(3, 1) + "\n" + Events.event(3, 2))
                            .statusCode())
                    .isEqualTo(200);
            String text = run(
                    "--url",
                    node.uri("/").toString(),
                    "--data-dir",
                    node.dataDir().toString());
            assertThat(text)
                    .contains("(embedded)")
                    .contains("receiver  running: stored 2, duplicates 0")
                    .contains("requests {200=1}");
            String json = run(
                    "--url",
                    node.uri("/").toString(),
                    "--data-dir",
                    node.dataDir().toString(),
                    "--json");
            assertThat(Http.json(json).path("receiver").path("stored").asInt()).isEqualTo(2);
        }
    }

    @Test
    void stats_list_the_subscribers_and_the_lag_of_each_hop_over_the_last_minute() throws Exception {
        try (RunningServer node = RunningServer.start(dir)) {
            WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=st", true);
            ws.next(); // accept
            ws.send("{\"xrftoken\": \"st\", \"groups\": {\"job_events\": [3]}}");
            ws.next(); // groups_current
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(3, 1) + "\n" + Events.event(3, 2))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(ws.next().path("counter").asInt()).isEqualTo(1);
            assertThat(ws.next().path("counter").asInt()).isEqualTo(2);

            JsonNode stats = Http.json(run(
                    "--url",
                    node.uri("/").toString(),
                    "--data-dir",
                    node.dataDir().toString(),
                    "--json"));

            JsonNode subscriber = stats.path("websocket").path("most_queued").path(0);
            assertThat(stats.path("websocket").path("connections").asInt()).isEqualTo(1);
            assertThat(subscriber.path("groups").toString()).isEqualTo("[\"job_events-3\"]");
            assertThat(subscriber.path("remote").asText()).contains("127.0.0.1");
            JsonNode lag = stats.path("lag_last_minute");
            assertThat(lag.path("created_received").path("events").asInt()).isEqualTo(2);
            assertThat(lag.path("received_committed").path("events").asInt()).isEqualTo(2);
            assertThat(lag.path("created_written").path("events").asInt()).isEqualTo(2);
            assertThat(lag.path("created_written").path("p99_ms_at_most").isNumber())
                    .isTrue();
            assertThat(run(
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString()))
                    .contains("lag, last minute")
                    .contains("created_written");
            ws.abort();
        }
    }

    @Test
    void an_unreachable_node_is_an_error_with_exit_code_1() {
        java.io.StringWriter err = new java.io.StringWriter();
        assertThat(Main.commandLine()
                        .setErr(new java.io.PrintWriter(err))
                        .execute("stats", "--url", "http://127.0.0.1:1/"))
                .isEqualTo(1);
        assertThat(err.toString()).contains("jobstream stats: cannot connect to the node");
    }
}
