package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.awaitDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a launched job unpacks on the node's machine stays in its own directory ({@code jobs/<id>/tmp}, its TMPDIR and
 * Ansible's local temp) and goes when its processes end, a cancel that kills a module mid-run included: before, each
 * canceled job left {@code ansible_<module>_payload_*} directories in the machine's /tmp. Real ansible-playbook.
 */
class JobTempIT {
    @TempDir
    static Path dataDir;

    @TempDir
    static Path playbookDir;

    static RunningServer node;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(playbookDir.resolve("inventory.ini"), """
                [local]
                here ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                """);
        Files.writeString(playbookDir.resolve("wait.yml"), """
                - name: A module that runs until canceled
                  hosts: local
                  gather_facts: false
                  tasks:
                    - name: Wait
                      ansible.builtin.command: sleep 35193
                """);
        Files.writeString(playbookDir.resolve("quick.yml"), """
                - name: Say where temporary files go
                  hosts: local
                  gather_facts: false
                  tasks:
                    - name: TMPDIR
                      ansible.builtin.debug:
                        msg: "tmpdir={{ lookup('env', 'TMPDIR') }}"
                """);
        node = RunningServer.start(dataDir, Map.of("playbook-dir", playbookDir.toString(), "jobs.cancel-grace", "3s"));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").matches("(.*/)?sleep 35193"))
                .forEach(ProcessHandle::destroyForcibly); // what a failed test left behind
    }

    private static long launch(String playbook) {
        HttpResponse<String> r =
                Http.postJson(node.uri("/api/v2/jobs/"), "{\"playbook\": \"" + playbook + "\"}", TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).path("id").asLong();
    }

    private static Path temp(long id) {
        return dataDir.resolve("jobs").resolve(Long.toString(id)).resolve("tmp");
    }

    private static List<String> payloads(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("ansible_.*_payload_.*"))
                    .toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of(); // changing while walked: look again
        }
    }

    @Test
    void a_canceled_modules_payload_is_unpacked_in_the_jobs_own_directory_and_removed_with_it() throws Exception {
        long id = launch("wait.yml");
        // the command module runs (its payload unpacked) while sleep runs
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> !payloads(temp(id)).isEmpty());
        assertThat(Files.getPosixFilePermissions(temp(id)))
                .containsExactlyInAnyOrderElementsOf(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assertThat(Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "").statusCode())
                .isEqualTo(202);
        assertThat(awaitDone(node, id, Duration.ofSeconds(60)).path("status").asText())
                .isEqualTo("canceled");
        await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(temp(id)));
        assertThat(Files.exists(temp(id).resolveSibling("stdout")))
                .as("the transcript stays")
                .isTrue();
    }

    @Test
    void a_finished_jobs_tmpdir_was_its_own_and_is_gone() throws Exception {
        long id = launch("quick.yml");
        assertThat(awaitDone(node, id, Duration.ofSeconds(90)).path("status").asText())
                .isEqualTo("successful");
        String stdout = Files.readString(temp(id).resolveSibling("stdout"));
        assertThat(stdout).contains("tmpdir=" + temp(id));
        await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(temp(id)));
    }
}
