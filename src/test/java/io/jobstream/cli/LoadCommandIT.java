package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./jobstream load} against a real node: every event offered is stored and reaches every subscriber. */
class LoadCommandIT {
    @TempDir
    Path dir;

    @Test
    void load_offers_events_to_several_jobs_and_reports_every_delivery_with_lag_percentiles() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            StringWriter printed = new StringWriter();
            int exit = Main.commandLine()
                    .setOut(new PrintWriter(printed))
                    .execute(
                            "load",
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString(),
                            "--jobs",
                            "2",
                            "--rate",
                            "400",
                            "--subscribers",
                            "2",
                            "--duration",
                            "2s",
                            "--warmup",
                            "1s",
                            "--first-job",
                            "700");
            String out = printed.toString();
            assertThat(exit).as(out).isZero();
            // 400/s for 2 s measured, to 2 jobs x 2 subscribers: every measured event arrives at both of its job's
            // subscribers
            assertThat(out).containsPattern("delivered: (\\d+) of \\1 messages");
            assertThat(out).contains("0 failed posts").containsPattern("p99 [0-9.]+");
            // warm-up included, 3 s at 400/s: 1,200 events across the two jobs, all stored
            long stored = Http.getJson(node.uri("/api/v2/jobs/700/"))
                            .path("stored_events")
                            .asLong()
                    + Http.getJson(node.uri("/api/v2/jobs/701/"))
                            .path("stored_events")
                            .asLong();
            assertThat(stored).isEqualTo(1200);
        }
    }

    @Test
    void with_drain_warmup_the_measurement_starts_once_the_warm_up_backlog_has_drained() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            StringWriter printed = new StringWriter();
            int exit = Main.commandLine()
                    .setOut(new PrintWriter(printed))
                    .execute(
                            "load",
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString(),
                            "--rate",
                            "400",
                            "--subscribers",
                            "2",
                            "--duration",
                            "1s",
                            "--warmup",
                            "1s",
                            "--drain-warmup",
                            "--first-job",
                            "710");
            String out = printed.toString();
            assertThat(exit).as(out).isZero();
            assertThat(out)
                    .containsPattern(
                            "warm-up backlog drained [0-9.]+ s after the warm-up \\(lag no longer falling\\); measuring")
                    .containsPattern("delivered: (\\d+) of \\1 messages");
        }
    }

    @Test
    void a_node_that_is_not_there_gets_one_clear_line() {
        StringWriter err = new StringWriter();
        int exit = Main.commandLine()
                .setErr(new PrintWriter(err))
                .execute("load", "--url", "http://127.0.0.1:9/", "--duration", "1s", "--warmup", "0s");
        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).contains("jobstream load: cannot connect to the node");
    }
}
