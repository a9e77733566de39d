package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.awaitDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job is all of its processes (issue 13.2): ansible-playbook's forks, the commands they run in the background and
 * async tasks (which daemonize out of the process group) end with the job, on cancel and when the playbook ends, and
 * the job's slot is free only then. Real ansible-playbook; each test's sleeps carry a number of their own so the test
 * can find them among the machine's processes.
 */
class JobProcessesIT {
    @TempDir
    static Path dataDir;

    @TempDir
    static Path playbookDir;

    static RunningServer node;

    @BeforeAll
    static void start() throws Exception {
        // three hosts, all this machine: three forks at once
        Files.writeString(playbookDir.resolve("inventory.ini"), """
                [local]
                one ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                two ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                three ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                """);
        for (String kind : List.of("cancel", "end")) {
            int base = kind.equals("cancel") ? 35170 : 35180;
            Files.writeString(playbookDir.resolve(kind + ".yml"), """
                    - name: Leaves work behind
                      hosts: local
                      gather_facts: false
                      tasks:
                        - name: Fire and forget (async_wrapper daemonizes out of the process group)
                          ansible.builtin.command: sleep %d
                          async: 600
                          poll: 0
                        - name: In the background of a shell
                          ansible.builtin.shell: "sleep %d > /dev/null 2>&1 &"
                        - name: Every fork busy
                          ansible.builtin.command: sleep %d
                    """.formatted(
                            base + 1, base + 2, kind.equals("cancel") ? base + 3 : 1));
        }
        node = RunningServer.start(dataDir, Map.of("playbook-dir", playbookDir.toString(), "jobs.cancel-grace", "3s"));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        sleeps("3517", "3518").forEach(ProcessHandle::destroyForcibly); // what a failed test left behind
    }

    /** This machine's processes running {@code sleep <prefix>…}. */
    private static List<ProcessHandle> sleeps(String... prefixes) {
        return ProcessHandle.allProcesses()
                .filter(p -> {
                    String cmd = p.info().commandLine().orElse("");
                    for (String prefix : prefixes) if (cmd.matches("(.*/)?sleep " + prefix + "\\d.*")) return true;
                    return false;
                })
                .toList();
    }

    private static long launch(String playbook) {
        HttpResponse<String> r =
                Http.postJson(node.uri("/api/v2/jobs/"), "{\"playbook\": \"" + playbook + "\"}", TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).path("id").asLong();
    }

    @Test
    void cancel_ends_every_process_of_the_job_forks_background_and_async_alike() {
        long id = launch("cancel.yml");
        // every kind of process is up: the async sleep, the shell's background sleep, one busy sleep per fork
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> sleeps("3517").size() >= 5);

        HttpResponse<String> cancel = Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
        JsonNode job = awaitDone(node, id, Duration.ofSeconds(60));

        assertThat(job.path("status").asText()).isEqualTo("canceled");
        // the job ends (and frees its slot) only once all of it is gone
        assertThat(sleeps("3517")).isEmpty();
    }

    @Test
    void what_a_finished_playbook_left_running_ends_with_its_job() {
        long id = launch("end.yml");
        JsonNode job = awaitDone(node, id, Duration.ofSeconds(90));

        assertThat(job.path("status").asText()).isEqualTo("successful");
        assertThat(sleeps("3518")).isEmpty();
    }
}
