package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.PLAYBOOKS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's secrets stay out of the playbook (issue 12.1): a node started with secrets in its environment runs a
 * playbook that dumps everything it can see, and none of them is there; the allow-listed variables are.
 */
class PlaybookEnvironmentIT {
    @TempDir
    Path dir;

    @Test
    void a_playbook_sees_the_allow_listed_environment_and_none_of_the_node_secrets() throws Exception {
        Path playbookDir = Files.createDirectories(dir.resolve("playbooks"));
        Files.copy(PLAYBOOKS.resolve("inventory.ini"), playbookDir.resolve("inventory.ini"));
        Path seen = dir.resolve("seen.txt");
        Files.writeString(playbookDir.resolve("env.yml"), """
                - name: Dump the environment
                  hosts: local
                  gather_facts: false
                  tasks:
                    - name: What a task's commands see
                      ansible.builtin.shell: "env > SEEN"
                    - name: What a lookup sees
                      ansible.builtin.debug:
                        msg: "lookup={{ lookup('env', 'JOBSTREAM_ADMIN_PASSWORD') }}"
                """.replace("SEEN", seen.toString()));
        Map<String, String> env = Map.of(
                "JOBSTREAM_ADMIN_PASSWORD", TestUsers.ADMIN_PASSWORD,
                "JOBSTREAM_PRIVATE_SETTING", "secret-jobstream-value",
                "PGPASSWORD", "secret-pg-password",
                "REDIS_URL", "redis://:secret-redis-password@127.0.0.1:1/0",
                "AWS_SECRET_ACCESS_KEY", "secret-aws-key",
                "ANSIBLE_DISPLAY_SKIPPED_HOSTS", "true",
                "SSH_AUTH_SOCK", "/tmp/agent.sock",
                "EXTRA_PASSED", "operator-chose-this");
        try (NodeProcess node = NodeProcess.start(
                "env",
                dir.resolve("node"),
                Map.of("playbook-dir", playbookDir.toString(), "jobs.pass-env", "SSH_AUTH_SOCK, EXTRA_PASSED"),
                List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                env)) {
            HttpResponse<String> r =
                    Http.postJson(node.uri("/api/v2/jobs/"), "{\"playbook\": \"env.yml\"}", TestUsers.ADMIN_AUTH);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            long id = Http.json(r.body()).path("id").asLong();
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(250))
                    .ignoreExceptions()
                    .until(() -> {
                        JsonNode job = Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
                        return job.path("status").asText().equals("successful")
                                && job.path("event_processing_finished").asBoolean();
                    });
            String stdout = Http.get(node.uri("/api/v2/jobs/" + id + "/stdout/?format=txt"))
                    .body();
            String printed = Files.readString(seen);

            assertThat(stdout).contains("\"msg\": \"lookup=\"");
            for (String secret : List.of(
                    TestUsers.ADMIN_PASSWORD,
                    "secret-jobstream-value",
                    "secret-pg-password",
                    "secret-redis-password",
                    "secret-aws-key")) {
                assertThat(printed).doesNotContain(secret);
                assertThat(stdout).doesNotContain(secret);
            }
            assertThat(printed)
                    .contains(
                            "ANSIBLE_DISPLAY_SKIPPED_HOSTS=true",
                            "SSH_AUTH_SOCK=/tmp/agent.sock",
                            "EXTRA_PASSED=operator-chose-this",
                            "PATH=",
                            "JOBSTREAM_JOB_ID=" + id,
                            "JOBSTREAM_TOKEN=");
            assertThat(printed.lines().filter(l -> l.startsWith("JOBSTREAM_")).map(l -> l.substring(0, l.indexOf('='))))
                    .containsExactlyInAnyOrder("JOBSTREAM_URL", "JOBSTREAM_JOB_ID", "JOBSTREAM_TOKEN", "JOBSTREAM_RUN");
        }
    }
}
