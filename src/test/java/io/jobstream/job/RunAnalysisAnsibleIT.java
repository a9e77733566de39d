package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.awaitDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TimelineMatrixCheck;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 19 with real ansible-playbook runs: four inventory hosts on the local connection, one of which sleeps on a
 * task while the others finish it. The timeline is watched while the job runs (the sleeping host is {@code running}
 * and then {@code slow}), the host summaries are compared with the play recap's stats, a second run that changes
 * other hosts is compared with the first, and the search finds which runs changed a host.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunAnalysisAnsibleIT {
    private static final String PLAYBOOK = """
            - name: Analysis
              hosts: all
              gather_facts: false
              tasks:
                - name: Everyone ok
                  ansible.builtin.debug:
                    msg: hello
                - name: Changed on one host
                  ansible.builtin.command: "true"
                  changed_when: inventory_hostname == (changed_host | default('h2'))
                - name: Slow on one host
                  ansible.builtin.command: "sleep {{ (slow | default(8)) if inventory_hostname == 'h4' else 0 }}"
                  changed_when: false
                - name: Fails on one host, ignored
                  ansible.builtin.command: "false"
                  when: inventory_hostname == 'h3'
                  ignore_errors: true
            """;
    private static final String INVENTORY = """
            [all]
            h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
            h2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
            h3 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
            h4 ansible_connection=local ansible_python_interpreter=/usr/bin/python3
            """;

    private RunningServer node;

    @BeforeAll
    void start() throws Exception {
        Path playbooks = TempDirs.make("analysis-playbooks");
        Files.writeString(playbooks.resolve("analysis.yml"), PLAYBOOK);
        Files.writeString(playbooks.resolve("hosts.ini"), INVENTORY);
        node = RunningServer.start(TempDirs.make("analysis-ansible"), Map.of("playbook-dir", playbooks.toString()));
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private long launch(String extraVars) {
        HttpResponse<String> r = Http.post(
                node.uri("/api/v2/jobs/"),
                "{\"playbook\": \"analysis.yml\", \"inventory\": \"hosts.ini\", \"extra_vars\": " + extraVars + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).path("id").asLong();
    }

    private JsonNode get(String path) {
        HttpResponse<String> r = Http.get(node.uri(path));
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return Http.json(r.body());
    }

    private static int hostIndex(JsonNode matrix, String name) {
        for (int i = 0; i < matrix.path("hosts").size(); i++)
            if (matrix.path("hosts").get(i).asText().equals(name)) return i;
        throw new AssertionError(name + " not in " + matrix.path("hosts"));
    }

    private static JsonNode task(JsonNode timeline, String name) {
        for (JsonNode t : timeline.path("tasks")) if (t.path("task").asText().equals(name)) return t;
        throw new AssertionError(name + " not on the timeline: " + timeline);
    }

    private static JsonNode host(JsonNode task, String name) {
        for (JsonNode h : task.path("hosts")) if (h.path("host_name").asText().equals(name)) return h;
        throw new AssertionError(name + " not on " + task);
    }

    @Test
    void a_real_run_is_explained_while_it_runs_and_after_and_compared_with_the_next_run() {
        long first = launch("{}");
        // while h4 sleeps: it is running on the slow task, the others have finished it; then it is flagged slow
        AtomicReference<JsonNode> seen = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> {
                    JsonNode tl = get("/api/v2/jobs/" + first + "/timeline/");
                    for (JsonNode t : tl.path("tasks")) {
                        if (!t.path("task").asText().equals("Slow on one host")) continue;
                        JsonNode h4 = null;
                        int done = 0;
                        for (JsonNode h : t.path("hosts")) {
                            if (h.path("host_name").asText().equals("h4")) h4 = h;
                            else if (h.path("status").asText().equals("ok")) done++;
                        }
                        if (h4 != null
                                && h4.path("status").asText().equals("running")
                                && done == 3
                                && h4.path("slow").asBoolean()) {
                            seen.set(tl);
                            return true;
                        }
                    }
                    return false;
                });
        JsonNode live = seen.get();
        assertThat(live.path("running").asBoolean()).isTrue();
        JsonNode liveSlow = task(live, "Slow on one host");
        assertThat(liveSlow.path("running").asBoolean()).isTrue();
        assertThat(liveSlow.path("end").isNull()).isTrue();
        assertThat(host(liveSlow, "h4").path("elapsed").asDouble()).isGreaterThan(2);
        assertThat(host(liveSlow, "h4").path("end").isNull()).isTrue();
        // the compact matrix shape, read a moment later: h4 still running there and flagged, or done by then
        JsonNode liveMatrix = get("/api/v2/jobs/" + first + "/timeline/?format=matrix");
        int h4 = hostIndex(liveMatrix, "h4");
        for (JsonNode t : liveMatrix.path("tasks")) {
            if (!t.path("task").asText().equals("Slow on one host")) continue;
            char c = t.path("cells").asText().charAt(h4);
            assertThat(c).as(t.toString()).isIn('r', 'o');
            if (c == 'r') assertThat(t.path("slow").toString()).contains(String.valueOf(h4));
        }

        JsonNode job = awaitDone(node, first, Duration.ofSeconds(120));
        assertThat(job.path("status").asText()).isEqualTo("successful");
        JsonNode tl = get("/api/v2/jobs/" + first + "/timeline/");
        assertThat(tl.path("running").asBoolean()).isFalse();
        TimelineMatrixCheck.assertAgrees(node::uri, first); // the compact shape, cell by cell, on a real run
        List<String> names = new ArrayList<>();
        for (JsonNode t : tl.path("tasks")) names.add(t.path("task").asText());
        assertThat(names)
                .containsExactly(
                        "Everyone ok", "Changed on one host", "Slow on one host", "Fails on one host, ignored");
        JsonNode slow = task(tl, "Slow on one host");
        assertThat(host(slow, "h4").path("status").asText()).isEqualTo("ok");
        assertThat(host(slow, "h4").path("duration").asDouble()).isGreaterThanOrEqualTo(8);
        assertThat(host(slow, "h4").path("slow").asBoolean()).isTrue();
        assertThat(host(slow, "h1").path("slow").asBoolean()).isFalse();
        assertThat(slow.path("duration").asDouble()).isGreaterThanOrEqualTo(8);
        assertThat(host(task(tl, "Changed on one host"), "h2").path("status").asText())
                .isEqualTo("changed");
        JsonNode fails = task(tl, "Fails on one host, ignored");
        assertThat(host(fails, "h3").path("status").asText()).isEqualTo("failed");
        assertThat(host(fails, "h3").path("ignored").asBoolean()).isTrue();
        assertThat(host(fails, "h1").path("status").asText()).isEqualTo("skipped");

        // host summaries: the play recap's counts
        JsonNode summaries = get("/api/v2/jobs/" + first + "/job_host_summaries/");
        assertThat(summaries.path("count").asInt()).isEqualTo(4);
        JsonNode h2 = summaries.path("results").get(1);
        assertThat(h2.path("host_name").asText()).isEqualTo("h2");
        assertThat(h2.path("changed").asInt()).isEqualTo(1);
        assertThat(h2.path("ok").asInt()).isEqualTo(3);
        assertThat(h2.path("skipped").asInt()).isEqualTo(1);
        JsonNode h3 = summaries.path("results").get(2);
        assertThat(h3.path("ignored").asInt()).isEqualTo(1);
        assertThat(h3.path("failed").asBoolean()).isFalse();
        String recap = Http.get(node.uri("/api/v2/jobs/" + first + "/stdout/?format=txt"))
                .body();
        assertThat(recap).containsPattern("h2\\s+: ok=3\\s+changed=1\\s+unreachable=0\\s+failed=0\\s+skipped=1");

        // a second run: h1 changes instead of h2, h4 does not sleep
        long second = launch("{\"changed_host\": \"h1\", \"slow\": 0}");
        awaitDone(node, second, Duration.ofSeconds(120));
        JsonNode c = get("/api/v2/jobs/" + first + "/compare/" + second + "/");
        List<String> diffs = new ArrayList<>();
        for (JsonNode d : c.path("differences"))
            diffs.add(d.path("task").asText() + "/" + d.path("host_name").asText() + ": "
                    + d.path("a").asText() + " -> " + d.path("b").asText());
        assertThat(diffs)
                .containsExactly("Changed on one host/h1: ok -> changed", "Changed on one host/h2: changed -> ok");
        assertThat(c.path("tasks_only_in_a").size() + c.path("tasks_only_in_b").size())
                .isZero();
        assertThat(get("/api/v2/jobs/" + second + "/compare/" + second + "/")
                        .path("count")
                        .asInt())
                .isZero();

        // which runs changed h2: the first only (its task result and its stats event are not per host)
        JsonNode found = get("/api/v2/job_events/?host_name=h2&changed=true");
        List<Long> jobs = new ArrayList<>();
        for (JsonNode e : found.path("results")) jobs.add(e.path("job").asLong());
        assertThat(jobs).containsExactly(first);
        JsonNode h1 = get("/api/v2/job_events/?host_name=h1&changed=true&event=runner_on_ok");
        assertThat(h1.path("results").get(0).path("job").asLong()).isEqualTo(second);
        assertThat(h1.path("results").get(0).path("task").asText()).isEqualTo("Changed on one host");

        // stdout with timestamps: the task banner line carries its event's created time
        String stamped = Http.get(node.uri("/api/v2/jobs/" + first + "/stdout/?format=txt&timestamps=1"))
                .body();
        assertThat(stamped).containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\dT[0-9:.]{15}Z TASK \\[Slow on one host\\]");
    }
}
