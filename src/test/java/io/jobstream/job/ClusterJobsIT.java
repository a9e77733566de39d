package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.DebianPostgres;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RedisServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Launched jobs in a cluster. A cancel that reaches another node than the job's (a load balancer in front of a cluster, as AWX's UI and awxkit
 * are used): the job's node cancels the run within about a second; and when the job's node is dead, the cancel ends
 * the job where it arrived, and the dead node's next start ends the playbook it left. Real node processes over Debian's
 * redis-server and PostgreSQL, real ansible-playbook. And a node's name is its own: a node finishes the jobs left
 * under its name when it starts, so a second node with a name in use is refused. A node silent past
 * {@code jobs.lost-node-timeout} has its jobs ended by another; one that was only frozen then ends the run itself.
 */
class ClusterJobsIT {
    private static final String SLEEP = "sleep 35311"; // this test's own number, to find its processes

    @TempDir
    static Path dir;

    static RedisServer redis;
    static DebianPostgres postgres;
    static Path playbooks;

    private final List<NodeProcess> nodes = new ArrayList<>();

    @BeforeAll
    static void startRedisAndPostgres() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), true);
        postgres = DebianPostgres.start(Path.of("/tmp")
                .resolve("jobstream-cancel-pg-" + ProcessHandle.current().pid()));
        playbooks = Files.createDirectories(dir.resolve("playbooks"));
        Files.writeString(playbooks.resolve("inventory.ini"), """
                [local]
                here ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                """);
        Files.writeString(playbooks.resolve("long.yml"), """
                - name: Runs until canceled
                  hosts: local
                  gather_facts: false
                  tasks:
                    - name: Wait
                      ansible.builtin.command: %s
                """.formatted(SLEEP));
    }

    @AfterAll
    static void stopRedisAndPostgres() {
        if (postgres != null) postgres.close();
        if (redis != null) redis.close();
    }

    @AfterEach
    void stopNodes() {
        nodes.forEach(NodeProcess::close);
        sleeps().forEach(ProcessHandle::destroyForcibly);
    }

    private static List<ProcessHandle> sleeps() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").matches("(.*/)?" + SLEEP + "( .*)?"))
                .toList();
    }

    private NodeProcess start(String name) {
        return start(name, Map.of());
    }

    private NodeProcess start(String name, Map<String, String> more) {
        Map<String, String> settings = new TreeMap<>(Map.of(
                "database-url", postgres.url(),
                "redis-url", redis.url(),
                "redis.node-timeout", "3s",
                "playbook-dir", playbooks.toString(),
                "jobs.cancel-grace", "3s"));
        settings.putAll(more);
        NodeProcess node = NodeProcess.start(name, dir.resolve(name), settings);
        nodes.add(node);
        return node;
    }

    @Test
    void a_cancel_sent_to_another_node_cancels_the_run_on_the_jobs_node() throws Exception {
        NodeProcess runs = start("a1");
        NodeProcess other = start("a2");
        long id = launchAndAwaitRunning(runs);

        assertThat(Http.getJson(other.uri("/api/v2/jobs/" + id + "/cancel/"))
                        .path("can_cancel")
                        .asBoolean())
                .isTrue();
        HttpResponse<String> cancel = Http.post(other.uri("/api/v2/jobs/" + id + "/cancel/"), "");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);

        JsonNode job = awaitFinal(other, id);
        assertThat(job.path("status").asText()).isEqualTo("canceled");
        assertThat(job.path("execution_node").asText()).isEqualTo("a1");
        assertThat(sleeps()).as("the run ended on its node").isEmpty();
        assertThat(Files.readString(dir.resolve("a1/node.log")))
                .contains("job " + id + ": canceled through another node");
        assertThat(Http.getJson(other.uri("/api/v2/jobs/" + id + "/cancel/"))
                        .path("can_cancel")
                        .asBoolean())
                .isFalse();
        assertThat(Http.post(other.uri("/api/v2/jobs/" + id + "/cancel/"), "").statusCode())
                .as("nothing left to cancel")
                .isEqualTo(405);
    }

    @Test
    void a_cancel_of_a_job_whose_node_died_ends_it_and_the_nodes_next_start_ends_its_playbook() throws Exception {
        NodeProcess dies = start("b1");
        NodeProcess other = start("b2");
        long id = launchAndAwaitRunning(dies);
        dies.kill();
        nodes.remove(dies);

        // the survivor tells the node is gone (its Redis connection closed with it; at worst after node-timeout)
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    HttpResponse<String> cancel = Http.post(other.uri("/api/v2/jobs/" + id + "/cancel/"), "");
                    assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
                    assertThat(Http.getJson(other.uri("/api/v2/jobs/" + id + "/"))
                                    .path("status")
                                    .asText())
                            .isEqualTo("canceled");
                });
        JsonNode job = Http.getJson(other.uri("/api/v2/jobs/" + id + "/"));
        assertThat(job.path("job_explanation").asText())
                .isEqualTo("canceled; the node running this job (b1) stopped before it ended");
        awaitEventsClosed(other, id);
        assertThat(sleeps()).as("still running on the dead node's machine").isNotEmpty();

        NodeProcess back = start("b1");
        assertThat(sleeps()).as("its next start ended it").isEmpty();
        assertThat(Http.getJson(back.uri("/api/v2/jobs/" + id + "/"))
                        .path("status")
                        .asText())
                .as("the row as the cancel left it")
                .isEqualTo("canceled");
    }

    @Test
    void a_node_silent_past_the_lost_node_timeout_has_its_jobs_ended_and_if_it_was_only_frozen_it_stops_the_run()
            throws Exception {
        NodeProcess frozen = start("d1", Map.of("jobs.lost-node-timeout", "4s"));
        NodeProcess other = start("d2", Map.of("jobs.lost-node-timeout", "4s"));
        long id = launchAndAwaitRunning(frozen);
        frozen.pause(); // SIGSTOP: its heartbeat key expires after redis.node-timeout, its connection stays open
        JsonNode job;
        try {
            job = awaitFinal(other, id);
        } finally {
            frozen.proceed();
        }
        assertThat(job.path("status").asText()).isEqualTo("error");
        assertThat(job.path("job_explanation").asText())
                .isEqualTo("the node running this job (d1) was lost (no heartbeat for 4 s) before it ended");
        awaitEventsClosed(other, id);
        assertThat(Files.readString(dir.resolve("d2/node.log")))
                .contains("node d1 has had no heartbeat for 4 s (jobs.lost-node-timeout): ending its 1 launched job(s)"
                        + " here");

        // it was only frozen: it reads the cancel flag the job got and ends its run; the status stays as d2 left it
        await().atMost(Duration.ofSeconds(30)).until(() -> sleeps().isEmpty());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Files.readString(dir.resolve("d1/node.log"))
                        .contains("job " + id + ": ended by another node meanwhile (this node was taken for lost)"));
        assertThat(Http.getJson(frozen.uri("/api/v2/jobs/" + id + "/"))
                        .path("job_explanation")
                        .asText())
                .isEqualTo(job.path("job_explanation").asText());
    }

    @Test
    void a_second_node_with_a_name_in_use_is_refused_and_leaves_the_first_ones_jobs_alone() throws Exception {
        NodeProcess first = start("c1");
        long id = launchAndAwaitRunning(first);
        Map<String, String> settings =
                Map.of("database-url", postgres.url(), "redis-url", redis.url(), "redis.node-timeout", "3s");
        Path twin = dir.resolve("c1-twin"); // a data dir of its own, the same name
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> NodeProcess.start("c1", twin, settings)).hasMessageContaining("did not start");
        assertThat(Files.readString(twin.resolve("node.log")))
                .contains("another node named 'c1' is running (its Redis heartbeat is live): give every node of a"
                        + " cluster its own --node-name");
        assertThat(Duration.ofNanos(System.nanoTime() - t0))
                .as("waited out the heartbeat once, then gave up")
                .isGreaterThan(Duration.ofSeconds(3));
        assertThat(Http.getJson(first.uri("/api/v2/jobs/" + id + "/"))
                        .path("status")
                        .asText())
                .isEqualTo("running");
        assertThat(sleeps()).isNotEmpty();
    }

    private static long launchAndAwaitRunning(NodeProcess node) {
        HttpResponse<String> r =
                Http.post(node.uri("/api/v2/jobs/"), "{\"playbook\": \"long.yml\", \"inventory\": \"inventory.ini\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long id = Http.json(r.body()).path("id").asLong();
        await().atMost(Duration.ofSeconds(90)).until(() -> !sleeps().isEmpty());
        return id;
    }

    /**
     * The EOF written for the job is committed. In a cluster it is acknowledged once in the Redis stream, so the status
     * may be final a moment before {@code event_processing_finished} (as in AWX, whose callback receiver lags too).
     */
    private static void awaitEventsClosed(NodeProcess node, long id) {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + id + "/"))
                        .path("event_processing_finished")
                        .asBoolean());
    }

    private static JsonNode awaitFinal(NodeProcess node, long id) {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> !List.of("new", "pending", "waiting", "running")
                        .contains(Http.getJson(node.uri("/api/v2/jobs/" + id + "/"))
                                .path("status")
                                .asText()));
        return Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
    }
}
