package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.TempDirs;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A node killed while it runs launched jobs (SIGKILL, the OOM killer): its playbooks run on (each is a session of its
 * own, outside the node's process group), and its jobs would show {@code running} and {@code pending} forever, with
 * no node to cancel them. The next start on its data dir ends those processes, revokes their ingest tokens, closes
 * their events with an EOF and marks the jobs {@code error}, saying why. Real ansible-playbook, real node processes.
 */
class LeftoverRunsIT {
    private static final String SLEEP = "sleep 35291"; // this test's own number, to find its processes

    @AfterEach
    void endWhatATestLeft() {
        sleeps().forEach(ProcessHandle::destroyForcibly);
    }

    private static List<ProcessHandle> sleeps() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").matches("(.*/)?" + SLEEP + "( .*)?"))
                .toList();
    }

    @Test
    void the_next_start_ends_what_a_killed_node_left_running_and_marks_its_jobs() throws Exception {
        Path dir = TempDirs.make("leftover-runs-it");
        Path playbooks = Files.createDirectories(dir.resolve("playbooks"));
        Files.writeString(playbooks.resolve("inventory.ini"), """
                [local]
                here ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                """);
        Files.writeString(playbooks.resolve("long.yml"), """
                - name: Runs longer than its node
                  hosts: local
                  gather_facts: false
                  tasks:
                    - name: Wait
                      ansible.builtin.command: %s
                """.formatted(SLEEP));
        Map<String, String> settings = Map.of("playbook-dir", playbooks.toString(), "jobs.max-running", "1");
        long running;
        long pending;
        String token;
        try (NodeProcess killed = NodeProcess.start("killed", dir, settings)) {
            running = launch(killed, "long.yml");
            pending = launch(killed, "long.yml"); // one slot: this one waits in the killed node's memory
            await().atMost(Duration.ofSeconds(90)).until(() -> !sleeps().isEmpty());
            JsonNode job = Http.getJson(killed.uri("/api/v2/jobs/" + running + "/"));
            assertThat(job.path("status").asText()).isEqualTo("running");
            assertThat(job.path("execution_node").asText()).isEqualTo("killed");
            assertThat(Http.getJson(killed.uri("/api/v2/jobs/" + pending + "/"))
                            .path("status")
                            .asText())
                    .isEqualTo("pending");
            token = pluginToken(dir).orElseThrow();
            killed.kill();
        }
        assertThat(sleeps())
                .as("the playbook outlives its node (the reason for this test)")
                .isNotEmpty();
        Files.move(dir.resolve("node.log"), dir.resolve("killed.log"));

        try (NodeProcess next = NodeProcess.start("next", dir, settings)) {
            assertThat(sleeps()).as("ended before the node serves").isEmpty();
            JsonNode job = Http.getJson(next.uri("/api/v2/jobs/" + running + "/"));
            assertThat(job.path("status").asText()).isEqualTo("error");
            assertThat(job.path("failed").asBoolean()).isTrue();
            assertThat(job.path("finished").asText()).isNotEmpty();
            assertThat(job.path("job_explanation").asText())
                    .isEqualTo("the node running this job (killed) stopped before it ended");
            assertThat(job.path("execution_node").asText()).isEqualTo("killed");
            assertThat(job.path("event_processing_finished").asBoolean())
                    .as("its events end with an EOF")
                    .isTrue();
            JsonNode waited = Http.getJson(next.uri("/api/v2/jobs/" + pending + "/"));
            assertThat(waited.path("status").asText()).isEqualTo("error");
            assertThat(waited.path("job_explanation").asText())
                    .isEqualTo("the node it waited on (killed) stopped before it started");

            // the orphaned plugin's credential is no good any more
            String event = "{\"job_id\":" + running + ",\"counter\":999,\"event\":\"verbose\",\"stdout\":\"late\"}";
            HttpResponse<String> late =
                    Http.post(next.uri("/api/v2/job_events/ingest/"), event + "\n", "Bearer " + token);
            assertThat(late.statusCode()).as(late.body()).isEqualTo(401);

            String log = Files.readString(dir.resolve("node.log"), StandardCharsets.UTF_8);
            assertThat(log)
                    .contains("job " + running + ": left running by a node that was killed")
                    .contains("2 launched job(s) left unfinished by an earlier node");
        }
        // a clean stop leaves nothing for the next start to do
        Files.move(dir.resolve("node.log"), dir.resolve("next.log"));
        try (NodeProcess again = NodeProcess.start("again", dir, settings)) {
            assertThat(Files.readString(dir.resolve("node.log"))).doesNotContain("left unfinished");
        }
    }

    private static long launch(NodeProcess node, String playbook) {
        HttpResponse<String> r = Http.post(
                node.uri("/api/v2/jobs/"), "{\"playbook\": \"" + playbook + "\", \"inventory\": \"inventory.ini\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).path("id").asLong();
    }

    /** The running plugin's ingest token, read from the environment of the ansible-playbook this test launched. */
    private static Optional<String> pluginToken(Path dir) {
        return ProcessHandle.allProcesses()
                .filter(p -> {
                    String cmd = p.info().commandLine().orElse("");
                    return cmd.contains("ansible-playbook") && cmd.contains(dir.toString());
                })
                .map(p -> {
                    try {
                        byte[] env = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "environ"));
                        for (String entry : new String(env, StandardCharsets.UTF_8).split("\0")) {
                            if (entry.startsWith("JOBSTREAM_TOKEN=")) return entry.substring(16);
                        }
                    } catch (Exception gone) {
                        // not ours, or ended
                    }
                    return null;
                })
                .filter(t -> t != null)
                .findFirst();
    }
}
