package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.TrustingClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./jobstream lag JOB_ID} against a real node over wss: prints the gauge while the job streams, then ends. */
class LagCommandIT {
    private static final long JOB = 12;
    private static final int EVENTS = 300;

    @TempDir
    Path dir;

    @Test
    void lag_prints_the_gauge_while_a_job_streams_and_ends_when_every_event_is_in() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"), Map.of("tls-self-signed", "true"))) {
            Path cert = node.dataDir().resolve("tls/self-signed.crt");
            StringWriter printed = new StringWriter();
            CommandLine cli = Main.commandLine().setOut(new PrintWriter(printed));
            CompletableFuture<Integer> lag = CompletableFuture.supplyAsync(() -> cli.execute(
                    "lag",
                    String.valueOf(JOB),
                    "--url",
                    node.uri("/").toString(),
                    "--data-dir",
                    node.dataDir().toString(),
                    "--cacert",
                    cert.toString(),
                    "--interval",
                    "200ms",
                    "--duration",
                    "60s"));
            // lag subscribes before the job starts, as an operator would: wait for its first "open" line
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> printed.toString().contains(" open "));
            HttpClient http = TrustingClient.of(cert);
            for (int from = 1; from <= EVENTS; from += 30) {
                StringBuilder body = new StringBuilder();
                for (int c = from; c < from + 30; c++)
                    body.append(Events.event(JOB, c)).append('\n');
                if (from + 30 > EVENTS) body.append(Events.eof(JOB, EVENTS)).append('\n');
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(node.uri("/api/v2/job_events/ingest/"))
                                .header("Authorization", TestUsers.ADMIN_AUTH)
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                Thread.sleep(100); // the scenario: a job's events arrive over time, so lag reports a rate
            }
            assertThat(lag.get()).isZero();
            String out = printed.toString();
            assertThat(out).contains("job " + JOB + ": " + EVENTS + " events received of " + EVENTS + ", 0 reconnects");
            // at least one gauge line counted events at a non-zero rate, with a lag under the test's own length
            assertThat(out.lines().filter(l -> l.matches("\\d\\d:\\d\\d:\\d\\d\\s+\\S+\\s+[1-9][0-9.]*\\s+.*")))
                    .isNotEmpty()
                    .allSatisfy(l -> assertThat(Double.parseDouble(l.trim().split("\\s+")[3]))
                            .isBetween(0.0, 60_000.0));
        }
    }
}
