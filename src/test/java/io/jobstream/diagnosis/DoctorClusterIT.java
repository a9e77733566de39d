package io.jobstream.diagnosis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.cli.Cli;
import io.jobstream.event.Timestamps;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.WsTestClient;
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
 * diagnosis from its heartbeat. And a slow cross-node relay: one node reaches Redis over a link that delays every
 * byte, so the batches the other node commits reach a subscriber on it late (a node receives the relayed events of the
 * jobs watched on it only).
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
    void a_slow_link_to_redis_is_the_relay_on_the_node_behind_it() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), false);
                DelayingProxy slowLink = new DelayingProxy(redis.port(), Duration.ofMillis(600));
                EmbeddedDatabase database = new EmbeddedDatabase(dir.resolve("database"), RunningServer.PG_BINARIES)) {
            String url = database.start();
            Map<String, String> a = Map.of("database-url", url, "redis-url", redis.url(), "node-name", "fast");
            Map<String, String> b = Map.of(
                    "database-url",
                    url,
                    "redis-url",
                    "redis://127.0.0.1:" + slowLink.port(),
                    "node-name",
                    "behind",
                    "redis.node-timeout",
                    "60s");
            try (RunningServer fast = RunningServer.start(dir.resolve("a"), a);
                    RunningServer behind = RunningServer.start(dir.resolve("b"), b)) {
                // someone on the node behind watches the job: only then does it receive the job's relayed events
                WsTestClient watcher = WsTestClient.connect(behind.websocketUri(), "csrftoken=it", true);
                assertThat(watcher.next().path("accept").asBoolean()).isTrue();
                watcher.send("{\"xrftoken\":\"it\",\"groups\":{\"job_events\":[22]}}");
                assertThat(watcher.next().path("groups_current").toString()).contains("job_events-22");
                AtomicInteger counter = new AtomicInteger();
                AtomicReference<JsonNode> last = new AtomicReference<>();
                Instant since = Instant.now();
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(() -> {
                            StringBuilder body = new StringBuilder();
                            for (int i = 0; i < 20; i++)
                                body.append(Events.event(22, counter.incrementAndGet()))
                                        .append('\n');
                            assertThat(Http.post(fast.uri("/api/v2/job_events/ingest/"), body.toString())
                                            .statusCode())
                                    .isEqualTo(200);
                            last.set(Http.getJson(behind.uri("/api/v2/diagnosis/?window=10s")));
                            assertThat(last.get().path("findings").toString())
                                    .as(last.get().toString())
                                    .contains("\"stage\":\"relay\"");
                        });
                watcher.abort();
                System.out.printf(
                        "DoctorClusterIT: named the relay %.1f s after traffic began (window 10 s): %s%n",
                        Duration.between(since, Instant.now()).toMillis() / 1000.0, last.get());
                for (JsonNode f : last.get().path("findings")) {
                    if (!f.path("stage").asText().equals("relay")) continue;
                    assertThat(f.path("hop").asText()).isEqualTo("committed_published");
                    assertThat(f.path("evidence")
                                    .path("committed_published_mean_ms")
                                    .asDouble())
                            .isGreaterThanOrEqualTo(500);
                    assertThat(f.path("evidence").path("relay_received").asLong())
                            .isPositive();
                }
            }
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
