package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.NodeDatabase;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 17 end to end: {@code ./jobstream cleanup} and {@code ./jobstream storage} against a real node, while an
 * emitter keeps ingesting; expired jobs keep serving their summary; the node's own schedule; hostile input.
 */
class CleanupCommandIT {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {}

    private static Run cleanup(RunningServer node, String... args) {
        CleanupCommand command = new CleanupCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(command);
        cli.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
        String[] all = new String[args.length + 4];
        all[0] = "--url";
        all[1] = node.uri("/").toString();
        all[2] = "--data-dir";
        all[3] = node.dataDir().toString();
        System.arraycopy(args, 0, all, 4, args.length);
        int exit = cli.execute(all);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String storage(RunningServer node, String... extra) {
        StorageCommand command = new StorageCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        String[] all = new String[extra.length + 4];
        all[0] = "--url";
        all[1] = node.uri("/").toString();
        all[2] = "--data-dir";
        all[3] = node.dataDir().toString();
        System.arraycopy(extra, 0, all, 4, extra.length);
        assertThat(new CommandLine(command).execute(all)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Ingests events first..last of {@code job} (and its EOF when {@code eof}), 2000 lines a request. */
    private static void ingest(RunningServer node, long job, int first, int last, boolean eof) {
        StringBuilder body = new StringBuilder();
        for (int c = first; c <= last; c++) {
            body.append(Events.event(job, c)).append('\n');
            if ((c - first + 1) % 2000 == 0 || c == last) {
                if (c == last && eof) body.append(Events.eof(job, last)).append('\n');
                HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                body.setLength(0);
            }
        }
    }

    private static long sql(Path data, String statement) throws IOException, SQLException {
        return NodeDatabase.sql(data, statement);
    }

    private static void awaitFinished(RunningServer node, long... jobs) {
        for (long job : jobs) {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                            .path("status")
                            .asText()
                            .equals("successful"));
        }
    }

    @Test
    void cleanup_while_an_emitter_ingests_stalls_nothing_loses_nothing_and_expired_jobs_keep_their_summary()
            throws Exception {
        try (RunningServer node = RunningServer.start(dir, Map.of("retention.batch-size", "100"))) {
            for (long job = 3000; job < 3020; job++) ingest(node, job, 1, 200, true); // a block that expires whole
            ingest(node, 4000, 1, 12_000, true); // expires, but shares its block with a running job
            ingest(node, 4001, 1, 10, false);
            awaitFinished(node, 3019, 4000);
            sql(node.dataDir(), "UPDATE job SET finished = now() - interval '40 days' WHERE id BETWEEN 3000 AND 4000");

            Run dry = cleanup(node, "--events-older-than", "30d", "--dry-run");
            assertThat(dry.exit()).as(dry.err()).isZero();
            assertThat(dry.out())
                    .contains("dry run: nothing was deleted")
                    .contains("would truncate job_event_p3")
                    .contains("jobs whose events expired      21")
                    .contains("events deleted                 16000");
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id BETWEEN 3000 AND 4000"))
                    .isEqualTo(16_000);

            // an emitter keeps writing a live job (block 6) while the cleanup runs
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger sent = new AtomicInteger();
            AtomicLong slowestMillis = new AtomicLong();
            AtomicInteger failures = new AtomicInteger();
            Thread emitter = new Thread(() -> {
                while (!stop.get()) {
                    int first = sent.get() + 1;
                    StringBuilder body = new StringBuilder();
                    for (int c = first; c < first + 100; c++)
                        body.append(Events.event(6000, c)).append('\n');
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString());
                    slowestMillis.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                    if (r.statusCode() == 200) sent.addAndGet(100);
                    else failures.incrementAndGet();
                }
            });
            emitter.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() >= 300);
            long before = slowestMillis.getAndSet(0);
            Run run = cleanup(node, "--events-older-than", "30d");
            stop.set(true);
            emitter.join(60_000);

            assertThat(run.exit()).as(run.out() + run.err()).isZero();
            assertThat(run.out())
                    .contains("truncated job_event_p3")
                    .contains("jobs whose events expired      21")
                    .contains("events deleted                 16000")
                    .contains("delete batches                 120");
            System.out.printf(
                    "cleanup of 16000 events (one block truncated, 120 batches): slowest ingest reply %d ms during it,"
                            + " %d ms before it%n",
                    slowestMillis.get(), before);
            // a DELETE holding locks would stall ingest for the whole cleanup; short transactions cannot
            assertThat(slowestMillis.get())
                    .as("slowest ingest reply during the cleanup (ms)")
                    .isLessThan(5_000);
            assertThat(failures.get()).isZero();
            await().atMost(Duration.ofSeconds(30))
                    .until(() ->
                            sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id = 6000") == sent.get());
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id BETWEEN 3000 AND 4000"))
                    .isZero();
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id = 4001"))
                    .as("running: untouched")
                    .isEqualTo(10);

            JsonNode expired = Http.getJson(node.uri("/api/v2/jobs/4000/"));
            assertThat(expired.path("events_expired").asBoolean()).isTrue();
            assertThat(expired.path("status").asText()).isEqualTo("successful");
            assertThat(expired.path("stored_events").asInt()).isEqualTo(12_000);
            assertThat(expired.path("final_counter").asInt()).isEqualTo(12_000);
            assertThat(Http.getJson(node.uri("/api/v2/jobs/3000/"))
                            .path("events_expired")
                            .asBoolean())
                    .isTrue();
            assertThat(Http.getJson(node.uri("/api/v2/jobs/4001/"))
                            .path("events_expired")
                            .asBoolean())
                    .isFalse();
            assertThat(Http.getJson(node.uri("/api/v2/jobs/4000/job_events/"))
                            .path("count")
                            .asInt())
                    .isZero();

            String text = storage(node, "--partitions");
            assertThat(text).contains("job_event (").contains("job_event_p6").contains("largest jobs");
            JsonNode report = Http.json(storage(node, "--json"));
            assertThat(report.path("total_bytes").asLong()).isPositive();
            assertThat(report.path("largest_jobs").path(0).path("id").asLong()).isEqualTo(6000);
            assertThat(report.path("oldest_event_job").asLong()).isEqualTo(4001);
            assertThat(MetricsText.value(node.uri("/metrics"), "retention_events_deleted_total"))
                    .isEqualTo(16_000);
            assertThat(MetricsText.value(node.uri("/metrics"), "storage_bytes{table=\"job_event\""))
                    .isPositive();
        }
    }

    @Test
    void absurd_or_missing_periods_are_refused_with_a_clear_message_and_delete_nothing() throws Exception {
        try (RunningServer node = RunningServer.start(dir)) {
            ingest(node, 2000, 1, 10, true);
            awaitFinished(node, 2000);
            sql(node.dataDir(), "UPDATE job SET finished = now() - interval '400 days'");

            Run tooLong = cleanup(node, "--events-older-than", "99999999999999d");
            assertThat(tooLong.exit()).isEqualTo(2);
            assertThat(tooLong.err()).contains("--events-older-than").contains("36500d");
            Run negative = cleanup(node, "--jobs-older-than", "-5d");
            assertThat(negative.exit()).isEqualTo(2);
            assertThat(negative.err()).contains("must be 0 (keep forever)");
            Run seconds = cleanup(node, "--jobs-older-than", "5s");
            assertThat(seconds.exit()).isEqualTo(2);
            assertThat(seconds.err()).contains("from 1m to 36500d");
            Run none = cleanup(node);
            assertThat(none.exit()).isEqualTo(2);
            assertThat(none.err()).contains("give --events-older-than or --jobs-older-than");

            try (java.sql.Connection other = NodeDatabase.connect(node.dataDir());
                    java.sql.Statement st = other.createStatement()) {
                st.execute("SELECT pg_advisory_lock(" + io.jobstream.postgres.PostgresRetention.LOCK_KEY + ")");
                Run busy = cleanup(node, "--events-older-than", "30d");
                assertThat(busy.exit()).as("another cleanup holds the lock").isEqualTo(3);
                assertThat(busy.err()).contains("another cleanup is running");
            }

            String cleanupUrl = "/api/v2/storage/cleanup/";
            for (String body : new String[] {
                "not json",
                "[]",
                "{}",
                "{\"events_older_than\": 30}",
                "{\"events_older_than\": \"1y\"}",
                "{\"jobs_older_than\": \"36501d\"}",
                "{\"events_older_than\": \"30d\", \"dry_run\": \"yes\"}"
            }) {
                HttpResponse<String> r = Http.postJson(node.uri(cleanupUrl), body, TestUsers.ADMIN_AUTH);
                assertThat(r.statusCode()).as(body + " -> " + r.body()).isEqualTo(400);
                assertThat(Http.json(r.body()).path("detail").asText()).as(body).isNotBlank();
            }
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id = 2000"))
                    .isEqualTo(10);
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job WHERE events_expired"))
                    .isZero();
        }
    }

    @Test
    void the_node_applies_its_retention_settings_on_its_schedule() throws Exception {
        try (RunningServer node = RunningServer.start(
                dir, Map.of("retention-events", "1d", "retention-jobs", "365d", "retention.interval", "1s"))) {
            ingest(node, 7000, 1, 50, true); // events expire
            ingest(node, 8000, 1, 50, true); // the whole job goes
            ingest(node, 8001, 1, 50, true); // finished recently: stays
            ingest(node, 8002, 1, 50, false); // running, and long ago started: stays
            awaitFinished(node, 7000, 8000, 8001);
            sql(node.dataDir(), "UPDATE job SET finished = now() - interval '2 days' WHERE id = 7000");
            sql(node.dataDir(), "UPDATE job SET finished = now() - interval '400 days' WHERE id = 8000");
            sql(
                    node.dataDir(),
                    "UPDATE job SET created = now() - interval '900 days', started = created WHERE id = 8002");
            // launched jobs' files on this node: they follow their events (9999: no such job here, and recent)
            Map<Long, Path> files = new TreeMap<>();
            for (long id : new long[] {7000, 8000, 8001, 9999}) {
                Path f = node.dataDir()
                        .resolve("jobs")
                        .resolve(Long.toString(id))
                        .resolve("stdout");
                Files.createDirectories(f.getParent());
                Files.writeString(f, "terminal output of " + id);
                files.put(id, f.getParent());
            }
            FileTime old = FileTime.from(Instant.now().minus(Duration.ofDays(400)));
            Files.setLastModifiedTime(files.get(8000L).resolve("stdout"), old);
            Files.setLastModifiedTime(files.get(8000L), old);

            await().atMost(Duration.ofSeconds(60))
                    .until(() -> sql(node.dataDir(), "SELECT count(*) FROM job WHERE id = 8000") == 0
                            && sql(node.dataDir(), "SELECT count(*) FROM job WHERE id = 7000 AND events_expired") == 1);
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id IN (7000, 8000)"))
                    .isZero();
            assertThat(sql(node.dataDir(), "SELECT count(*) FROM job_event WHERE job_id IN (8001, 8002)"))
                    .isEqualTo(100);
            JsonNode job = Http.getJson(node.uri("/api/v2/jobs/7000/"));
            assertThat(job.path("events_expired").asBoolean()).isTrue();
            assertThat(job.path("stored_events").asInt()).isEqualTo(50);
            assertThat(Http.get(node.uri("/api/v2/jobs/8000/")).statusCode()).isEqualTo(404);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !Files.exists(files.get(7000L)) && !Files.exists(files.get(8000L)));
            assertThat(files.get(8001L)).as("its events stay").exists();
            assertThat(files.get(9999L))
                    .as("a job this database does not know, recent")
                    .exists();
        }
    }
}
