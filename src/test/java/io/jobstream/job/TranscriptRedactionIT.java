package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.PLAYBOOKS;
import static io.jobstream.job.AnsibleJobs.awaitDone;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Redactor;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A launched job's terminal transcript ({@code <data-dir>/jobs/<id>/stdout}) keeps no more than its events do: with
 * {@code --redact-pattern}, a real ansible-playbook prints a secret through the callback (a task's message: its event
 * is redacted at ingest) and straight to its stderr (a pipe lookup's command: no event carries it, only the
 * transcript), and the file has neither; where nothing matched it is still the job's ANSI stdout byte for byte.
 */
class TranscriptRedactionIT {
    private static final String SECRET = "hunter2-XYZZY";

    @TempDir
    static Path dir;

    static RunningServer node;

    @BeforeAll
    static void start() throws Exception {
        Path playbooks = Files.createDirectories(dir.resolve("playbooks"));
        Files.copy(PLAYBOOKS.resolve("inventory.ini"), playbooks.resolve("inventory.ini"));
        Files.writeString(playbooks.resolve("secret.yml"), """
                - name: Print a secret two ways
                  hosts: local
                  connection: local
                  gather_facts: false
                  tasks:
                    - name: Through the callback
                      ansible.builtin.debug:
                        msg: "the password is SECRET, do not tell"
                    - name: Straight to the terminal
                      ansible.builtin.debug:
                        msg: "{{ lookup('pipe', 'echo leaked SECRET on stderr >&2; echo done') }}"
                """.replace("SECRET", SECRET));
        node = RunningServer.start(
                dir.resolve("node"), Map.of("playbook-dir", playbooks.toString(), "redact-pattern", "hunter2-[A-Z]+"));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    @Test
    void the_transcript_masks_what_the_patterns_match_on_every_line_the_process_printed() throws Exception {
        HttpResponse<String> r =
                Http.postJson(node.uri("/api/v2/jobs/"), "{\"playbook\": \"secret.yml\"}", TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long id = Http.json(r.body()).path("id").asLong();
        JsonNode job = awaitDone(node, id, Duration.ofSeconds(120));
        assertThat(job.path("status").asText()).isEqualTo("successful");

        byte[] printed = Files.readAllBytes(node.jobOutput(id));
        String terminal = new String(printed, StandardCharsets.UTF_8);
        assertThat(terminal)
                .as("what ansible-playbook printed, redacted")
                .doesNotContain(SECRET)
                .contains("the password is " + Redactor.MASK + ", do not tell")
                .contains("leaked " + Redactor.MASK + " on stderr\n")
                .contains("PLAY RECAP");
        String ansi = Http.get(node.uri("/api/v2/jobs/" + id + "/stdout/?format=ansi"))
                .body();
        assertThat(ansi).doesNotContain(SECRET).contains(Redactor.MASK);
        // the stderr line is the transcript's alone; without it, the file is the events' output byte for byte
        String stderrLine = "leaked " + Redactor.MASK + " on stderr\n";
        assertThat(ansi).doesNotContain(stderrLine);
        assertThat(terminal.replace(stderrLine, "")).isEqualTo(ansi);
        assertThat(Files.getPosixFilePermissions(node.jobOutput(id)))
                .as("still private")
                .containsExactlyInAnyOrder(
                        java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    }
}
