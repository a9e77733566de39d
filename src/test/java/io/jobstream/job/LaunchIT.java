package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.assertCountersComplete;
import static io.jobstream.job.AnsibleJobs.awaitDone;
import static io.jobstream.job.AnsibleJobs.events;
import static io.jobstream.job.AnsibleJobs.stripAnsi;
import static io.jobstream.job.AnsibleJobs.types;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.WsTestClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Real ansible-playbook runs launched through POST /api/v2/jobs/ on a real node, with the jobstream plugin. */
class LaunchIT {
    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir, Map.of("playbook-dir", AnsibleJobs.PLAYBOOKS.toString(), "jobs.cancel-grace", "5s"));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    private static long launch(String body) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/jobs/"), body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode job = Http.json(r.body());
        assertThat(job.path("status").asText()).isIn("pending", "running");
        assertThat(job.path("type").asText()).isEqualTo("job");
        return job.path("id").asLong();
    }

    @ParameterizedTest(name = "{0} -v×{1}")
    @CsvSource({
        "hello.yml,   0, successful, playbook_on_start playbook_on_play_start playbook_on_task_start runner_on_start runner_on_ok playbook_on_stats",
        "mixed.yml,   0, successful, runner_item_on_ok runner_item_on_failed runner_item_on_skipped runner_on_skipped runner_on_failed playbook_on_notify",
        "mixed.yml,   2, successful, verbose runner_item_on_ok runner_on_failed playbook_on_notify playbook_on_stats",
        "failing.yml, 0, failed,     runner_on_failed playbook_on_stats",
        "facts.yml,   0, successful, runner_item_on_ok playbook_on_stats",
    })
    void a_sample_playbook_is_stored_complete_and_its_stdout_is_byte_for_byte_what_it_printed(
            String playbook, int verbosity, String status, String expectedTypes) throws Exception {
        long id = launch("{\"playbook\": \"" + playbook + "\", \"inventory\": \"inventory.ini\", \"verbosity\": "
                + verbosity + "}");
        JsonNode job = awaitDone(node, id, Duration.ofSeconds(120));

        assertThat(job.path("status").asText()).isEqualTo(status);
        List<JsonNode> events = events(node, id);
        assertCountersComplete(events, job);
        assertThat(job.path("emitted_events").asInt()).isEqualTo(events.size());
        assertThat(types(events)).contains(expectedTypes.trim().split("\\s+"));
        // with -v, what Ansible printed before loading callbacks comes first, as verbose events (as in AWX)
        assertThat(types(events).stream().filter(t -> !t.equals("verbose")).findFirst())
                .contains("playbook_on_start");
        assertThat(job.path("playbook_counts").path("play_count").asInt()).isEqualTo(1);
        assertThat(job.path("host_status_counts").isObject()).isTrue();

        byte[] printed = Files.readAllBytes(node.jobOutput(id));
        assertThat(printed.length).isGreaterThan(100);
        String terminal = new String(printed, StandardCharsets.UTF_8);
        assertThat(terminal).contains("\u001b[0;32m").contains("PLAY RECAP");
        String ansi = Http.get(node.uri("/api/v2/jobs/" + id + "/stdout/?format=ansi"))
                .body();
        assertThat(ansi.getBytes(StandardCharsets.UTF_8)).isEqualTo(printed);
        String txt =
                Http.get(node.uri("/api/v2/jobs/" + id + "/stdout/?format=txt")).body();
        assertThat(txt).isEqualTo(stripAnsi(terminal));
    }

    @Test
    void a_canceled_job_ends_canceled_with_its_events_up_to_the_cancel_and_an_eof() throws Exception {
        long id = launch("{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": 20}}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> AnsibleJobs.job(node, id).path("stored_events").asInt() >= 6);

        HttpResponse<String> cancel = Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "");
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
        JsonNode job = awaitDone(node, id, Duration.ofSeconds(60));

        assertThat(job.path("status").asText()).isEqualTo("canceled");
        assertThat(job.path("job_explanation").asText()).contains("canceled");
        List<JsonNode> events = events(node, id);
        assertCountersComplete(events, job);
        assertThat(types(events)).contains("runner_item_on_ok").doesNotContain("playbook_on_stats");
        String printed = Files.readString(node.jobOutput(id));
        assertThat(Http.get(node.uri("/api/v2/jobs/" + id + "/stdout/?format=ansi"))
                        .body())
                .isEqualTo(printed);
        assertThat(Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "").statusCode())
                .isEqualTo(405);
    }

    @Test
    void a_job_whose_ansible_playbook_is_killed_ends_in_error_with_its_stored_events_closed_by_an_eof()
            throws Exception {
        long id = launch("{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": 30}, \"name\": \"to be killed\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> AnsibleJobs.job(node, id).path("stored_events").asInt() >= 6);
        // the node runs in this JVM: its ansible-playbook is our child; SIGKILL it, as the OOM killer would
        ProcessHandle playbook = ProcessHandle.current()
                .children()
                .filter(p -> p.info().commandLine().orElse("").contains("ansible-playbook"))
                .findFirst()
                .orElseThrow();
        List<ProcessHandle> workers = playbook.descendants().toList();
        assertThat(playbook.destroyForcibly()).isTrue();
        workers.forEach(ProcessHandle::destroyForcibly); // orphaned forks, if any, are ours too

        JsonNode job = awaitDone(node, id, Duration.ofSeconds(60));
        assertThat(job.path("status").asText()).isEqualTo("error");
        List<JsonNode> events = events(node, id);
        assertCountersComplete(events, job); // final_counter = the last stored event, nothing missing below it
        assertThat(types(events)).contains("runner_item_on_ok").doesNotContain("playbook_on_stats");
        assertThat(job.path("emitted_events").asInt()).isEqualTo(events.size());
    }

    @Test
    void playbooks_and_inventories_outside_the_playbook_directory_are_refused() {
        for (String body : List.of(
                "{\"playbook\": \"../pom.xml\"}",
                "{\"playbook\": \"/etc/passwd\"}",
                "{\"playbook\": \"hello.yml\", \"inventory\": \"../../etc/hosts\"}",
                "{\"playbook\": \"nope.yml\"}",
                "{\"playbook\": \"hello.yml\", \"extra_vars\": [1]}",
                "{\"playbook\": \"hello.yml\", \"bogus\": 1}",
                "{}")) {
            HttpResponse<String> r = Http.post(node.uri("/api/v2/jobs/"), body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(Http.json(r.body()).path("detail").asText()).as(body).isNotEmpty();
        }
    }

    @Test
    void extra_vars_and_limit_reach_ansible_playbook() throws Exception {
        long id = launch("{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": 1}, \"limit\": \"localhost\","
                + " \"name\": \"one tick\"}");
        JsonNode job = awaitDone(node, id, Duration.ofSeconds(60));
        assertThat(job.path("status").asText()).isEqualTo("successful");
        assertThat(job.path("name").asText()).isEqualTo("one tick");
        assertThat(Files.readString(node.jobOutput(id))).contains("step 1 of 1").doesNotContain("step 2");
    }

    @Test
    void status_changed_messages_follow_a_launched_job_from_pending_to_its_final_status() throws Exception {
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=t", true);
        try {
            assertThat(ws.next().path("accept").asBoolean()).isTrue();
            ws.send("{\"xrftoken\":\"t\",\"groups\":{\"jobs\":[\"status_changed\"]}}");
            assertThat(ws.next().path("groups_current").toString()).contains("status_changed");
            long id = launch("{\"playbook\": \"failing.yml\"}");
            List<String> statuses = new ArrayList<>();
            while (!statuses.contains("failed")) {
                String frame = ws.frames.poll(60, TimeUnit.SECONDS);
                assertThat(frame).as("status messages so far: " + statuses).isNotNull();
                JsonNode m = Http.json(frame);
                if (m.path("unified_job_id").asLong() == id)
                    statuses.add(m.path("status").asText());
            }
            assertThat(statuses).containsExactly("pending", "running", "failed");
        } finally {
            ws.abort();
        }
    }
}
