package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Full disk on a real embedded PostgreSQL: a job's event partition is moved to a tablespace on a 4 MiB tmpfs, which
 * is then filled. Ingest must answer 503 with the reason, keep what it had accepted, and accept again by itself once
 * space returns, with every accepted event stored. Needs root (mount); without it the test fails, never skips.
 */
class FullDiskIT {
    private static final long JOB = 9201;

    @TempDir
    Path dataDir;

    @TempDir
    Path mountPoint;

    @Test
    void ingest_answers_503_with_the_reason_while_postgres_cannot_write_and_recovers_when_space_returns()
            throws Exception {
        run("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mountPoint.toString());
        RunningServer node = null;
        try {
            node = RunningServer.start(
                    dataDir, Map.of("ingest.commit-timeout", "3s", "persist.max-retry-backoff", "200ms"));
            assertThat(post(node, event(1, 10)).statusCode()).isEqualTo(200); // its partition now exists

            // the job's partition (heap and TOAST) goes to the small filesystem; indexes and WAL stay where they are
            run("chown", "--reference=" + dataDir.resolve("pg"), mountPoint.toString());
            try (Connection c = superuser();
                    Statement s = c.createStatement()) {
                s.execute("CREATE TABLESPACE full_disk LOCATION '" + mountPoint + "'");
                String partition;
                try (ResultSet rs = s.executeQuery(
                        "SELECT tableoid::regclass::text FROM job_event WHERE job_id = " + JOB + " LIMIT 1")) {
                    assertThat(rs.next()).isTrue();
                    partition = rs.getString(1);
                }
                s.execute("ALTER TABLE " + partition + " SET TABLESPACE full_disk");
            }
            Path filler = mountPoint.resolve("filler");
            fill(filler);

            // accepted, but cannot be committed: after commit-timeout, 503 says why
            HttpResponse<String> first = post(node, events(2, 20));
            assertThat(first.statusCode()).as(first.body()).isEqualTo(503);
            assertThat(Http.json(first.body()).path("detail").asText())
                    .contains("disk full")
                    .contains("stay queued");
            // from now on refused at once, with the reason, and counted
            HttpResponse<String> refused = post(node, events(21, 21));
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(Http.json(refused.body()).path("detail").asText())
                    .contains("PostgreSQL cannot write: disk full or quota exceeded")
                    .doesNotContain("pg_tblspc");
            RunningServer n = node;
            assertThat(MetricsText.value(n.uri("/metrics"), "ingest_store_refused_total{reason=\"disk_full\""))
                    .isGreaterThanOrEqualTo(1.0);
            assertThat(stored(node)).isEqualTo(1);

            // space returns: the node recovers by itself; what it accepted was not lost
            Files.delete(filler);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> post(n, events(21, 25)).statusCode() == 200);
            await().atMost(Duration.ofSeconds(60)).until(() -> stored(n) == 25);
            List<JsonNode> all = new ArrayList<>();
            Http.getJson(node.uri("/api/v2/jobs/" + JOB + "/job_events/?order_by=counter&page_size=100"))
                    .path("results")
                    .forEach(all::add);
            for (int i = 0; i < all.size(); i++)
                assertThat(all.get(i).path("counter").asInt()).isEqualTo(i + 1);
        } finally {
            if (node != null) node.close(); // PostgreSQL holds files on the mount until it stops
            Process umount = new ProcessBuilder("umount", mountPoint.toString()).start();
            if (!umount.waitFor(60, TimeUnit.SECONDS) || umount.exitValue() != 0) {
                new ProcessBuilder("umount", "-l", mountPoint.toString())
                        .start()
                        .waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    private static long stored(RunningServer node) {
        return Http.getJson(node.uri("/api/v2/jobs/" + JOB + "/"))
                .path("stored_events")
                .asLong();
    }

    private static HttpResponse<String> post(RunningServer node, String body) {
        return Http.post(node.uri("/api/v2/job_events/ingest/"), body);
    }

    private static String events(int from, int to) {
        StringBuilder sb = new StringBuilder();
        for (int c = from; c <= to; c++) sb.append(event(c, 40_000)).append('\n');
        return sb.toString();
    }

    /** An event with {@code size} bytes of incompressible stdout, so that it needs new TOAST pages. */
    private static String event(int counter, int size) {
        byte[] noise = new byte[size * 3 / 4];
        new Random(counter).nextBytes(noise);
        String stdout = Base64.getEncoder().encodeToString(noise);
        return "{\"job_id\":" + JOB + ",\"counter\":" + counter + ",\"event\":\"verbose\",\"uuid\":\"f" + counter
                + "\",\"stdout\":\"" + stdout + "\\n\",\"start_line\":" + (counter - 1) + ",\"end_line\":" + counter
                + "}";
    }

    /** Writes zeros until the filesystem has no space left (the write that fails is expected). */
    private static void fill(Path file) throws IOException {
        byte[] block = new byte[64 << 10];
        try (var out = Files.newOutputStream(file)) {
            while (true) out.write(block);
        } catch (IOException e) {
            assertThat(e.getMessage()).contains("No space left");
        }
    }

    private Connection superuser() throws Exception {
        List<String> pid = Files.readAllLines(dataDir.resolve("pg/postmaster.pid"));
        String port = pid.get(3).trim(); // postmaster.pid: line 4 is the port
        String password = Files.readString(dataDir.resolve("database-superuser-password"), StandardCharsets.UTF_8)
                .trim();
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", password);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS))
                .as(String.join(" ", command))
                .isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    }
}
