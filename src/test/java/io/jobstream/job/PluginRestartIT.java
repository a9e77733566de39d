package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.assertCountersComplete;
import static io.jobstream.job.AnsibleJobs.awaitDone;
import static io.jobstream.job.AnsibleJobs.events;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Binaries;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin, run by hand (not launched by the node), against a node that stops mid-run and comes back. */
class PluginRestartIT {

    @TempDir
    Path dataDir;

    @TempDir
    Path work;

    @Test
    void the_plugin_rides_out_a_node_restart_without_losing_or_duplicating_an_event() throws Exception {
        int port = freePort();
        Map<String, String> settings = Map.of("port", Integer.toString(port));
        RunningServer node = RunningServer.start(dataDir, settings);
        Path printed = work.resolve("stdout");
        ProcessBuilder pb = new ProcessBuilder(
                        Binaries.ansiblePlaybook().toString(), "-i", "inventory.ini", "-e", "steps=15", "slow.yml")
                .directory(AnsibleJobs.PLAYBOOKS.toFile())
                .redirectErrorStream(true)
                .redirectOutput(printed.toFile());
        Map<String, String> env = pb.environment();
        env.put("ANSIBLE_STDOUT_CALLBACK", "jobstream");
        env.put("ANSIBLE_CALLBACK_PLUGINS", AnsibleJobs.PLUGINS.toString());
        env.put("ANSIBLE_FORCE_COLOR", "1");
        env.put("PYTHONUNBUFFERED", "1");
        env.put("JOBSTREAM_URL", "http://127.0.0.1:" + port + "/");
        // an ingest token for a fresh job the node allocates; it lives in PostgreSQL, so it outlasts the restart
        JsonNode token =
                Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", TestUsers.ADMIN_AUTH)
                        .body());
        long jobId = token.get("job").asLong();
        env.put("JOBSTREAM_JOB_ID", Long.toString(jobId));
        env.put("JOBSTREAM_TOKEN", token.get("token").asText());
        Process ansible = pb.start();
        try {
            RunningServer first = node;
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(() ->
                            AnsibleJobs.job(first, jobId).path("stored_events").asInt() >= 5);
            node.close();
            Thread.sleep(4_000); // a few ticks are printed while nobody listens
            assertThat(ansible.isAlive())
                    .as("the playbook goes on while the node is down: " + Files.readString(printed))
                    .isTrue();
            node = RunningServer.start(dataDir, settings);

            assertThat(ansible.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(ansible.exitValue()).as(Files.readString(printed)).isZero();
            JsonNode job = awaitDone(node, jobId, Duration.ofSeconds(60));
            assertThat(job.path("status").asText()).isEqualTo("successful");
            List<JsonNode> events = events(node, jobId);
            assertCountersComplete(events, job);
            assertThat(job.path("stored_events").asInt()).isEqualTo(events.size());
            assertThat(AnsibleJobs.types(events)).contains("playbook_on_stats");
            String terminal = Files.readString(printed, StandardCharsets.UTF_8);
            assertThat(terminal).doesNotContain("jobstream:"); // delivered in the end: nothing to complain about
            assertThat(Http.get(node.uri("/api/v2/jobs/" + jobId + "/stdout/?format=ansi"))
                            .body())
                    .isEqualTo(terminal);
        } finally {
            ansible.destroyForcibly();
            node.close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
