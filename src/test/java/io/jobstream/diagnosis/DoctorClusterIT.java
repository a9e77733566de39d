package io.jobstream.diagnosis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.cli.Cli;
import io.jobstream.event.Timestamps;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.RunningServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./jobstream doctor --redis-url}: two nodes over one Redis and one PostgreSQL; the doctor reads each node's
 * diagnosis from its heartbeat. (A slow relay is not induced here: stalling Redis stalls the shared stream too, which
 * the doctor rightly reports as the queue or the receiver, not as the relay.)
 */
class DoctorClusterIT {
    @TempDir
    Path dir;

    private static Map.Entry<Integer, String> doctor(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        System.setOut(out);
        System.setErr(out);
        try {
            String[] all = new String[args.length + 1];
            all[0] = "doctor";
            System.arraycopy(args, 0, all, 1, args.length);
            return Map.entry(Cli.run(all), bytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void the_cluster_doctor_reads_every_nodes_diagnosis_and_is_degraded_when_one_is() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), false);
                EmbeddedDatabase database = new EmbeddedDatabase(dir.resolve("database"), RunningServer.PG_BINARIES)) {
            String url = database.start();
            Map<String, String> a = Map.of("database-url", url, "redis-url", redis.url(), "node-name", "doc-a");
            Map<String, String> b = Map.of("database-url", url, "redis-url", redis.url(), "node-name", "doc-b");
            try (RunningServer nodeA = RunningServer.start(dir.resolve("a"), a);
                    RunningServer nodeB = RunningServer.start(dir.resolve("b"), b)) {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    Map.Entry<Integer, String> cli = doctor("--redis-url", redis.url());
                    assertThat(cli.getValue())
                            .contains("cluster: healthy (2 nodes)", "doc-a: healthy", "doc-b: healthy");
                    assertThat(cli.getKey()).isZero();
                });
                // events created 4 s before they are sent, to node a: whichever node commits them finds the emitter
                AtomicInteger counter = new AtomicInteger();
                AtomicReference<Map.Entry<Integer, String>> last = new AtomicReference<>();
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .untilAsserted(() -> {
                            StringBuilder body = new StringBuilder();
                            String created = "\"created\":\""
                                    + Timestamps.format(Instant.now().minusSeconds(4)) + "\"";
                            for (int i = 0; i < 20; i++) {
                                body.append(Events.event(21, counter.incrementAndGet())
                                                .replaceFirst("\"created\":\"[^\"]*\"", created))
                                        .append('\n');
                            }
                            assertThat(Http.post(nodeA.uri("/api/v2/job_events/ingest/"), body.toString())
                                            .statusCode())
                                    .isEqualTo(200);
                            last.set(doctor("--redis-url", redis.url()));
                            assertThat(last.get().getKey())
                                    .as(last.get().getValue())
                                    .isEqualTo(1);
                        });
                assertThat(last.get().getValue())
                        .contains("cluster: degraded (2 nodes)", "doc-a: ", "doc-b: ")
                        .containsPattern("  emitter +\\d+%  events arrive late");
            }
        }
    }
}
