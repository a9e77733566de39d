package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SyntheticRun;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 19 (SPEC §11) on a real node with embedded PostgreSQL: synthetic runs posted through HTTP ingest, then the
 * host summaries, timeline, compare and cross-job search read back over HTTP, as admin and as two users who see
 * different jobs; and what a client may get wrong.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunAnalysisIT {
    private static final String ALICE = TestUsers.basic("alice", "alice-pw");
    private static final String BOB = TestUsers.basic("bob", "bob-pw");
    private static final long A = 1001; // 5 hosts x 4 tasks, finished, one slow host on task 3
    private static final long B = 1002; // A's playbook again: 6 hosts x 5 tasks, host0002 changed on task 2
    private static final long RUNNING = 1003; // unfinished: host0004 still on task 3
    private final Instant t0 = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);

    private RunningServer node;
    private long aliceJob;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(TempDirs.make("run-analysis"));
        for (String user : List.of("alice", "bob")) {
            HttpResponse<String> r = Http.postJson(
                    node.uri("/api/v2/users/"),
                    "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                    TestUsers.ADMIN_AUTH);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        }
        SyntheticRun a = new SyntheticRun(A, 5, 4);
        a.start = t0;
        a.status = (h, t) -> h == 0 && t == 1
                ? "changed"
                : h == 1 && t == 2
                        ? "failed"
                        : h == 2 && t == 3
                                ? "ignored"
                                : h == 3 && t == 0 ? "skipped" : h == 4 && t == 3 ? "unreachable" : "ok";
        a.duration = (h, t) -> h == 4 && t == 2 ? Duration.ofSeconds(9) : Duration.ofMillis(500 + 100 * h);
        ingest(a.lines(), TestUsers.ADMIN_AUTH);

        SyntheticRun b = new SyntheticRun(B, 6, 5);
        b.start = t0.plus(Duration.ofMinutes(5));
        b.status = (h, t) -> (h == 0 || h == 1) && t == 1 ? "changed" : h == 1 && t == 2 ? "failed" : "ok";
        ingest(b.lines(), TestUsers.ADMIN_AUTH);

        SyntheticRun r = new SyntheticRun(RUNNING, 4, 3);
        r.start = Instant.now().minus(Duration.ofSeconds(60)).truncatedTo(ChronoUnit.MILLIS);
        r.taskSpacing = Duration.ofSeconds(5);
        r.finished = false;
        r.status = (h, t) -> h == 3 && t == 2 ? "running" : "ok";
        ingest(r.lines(), TestUsers.ADMIN_AUTH);

        HttpResponse<String> token = Http.postJson(node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", ALICE);
        assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
        aliceJob = Http.json(token.body()).get("job").asLong();
        SyntheticRun mine = new SyntheticRun(aliceJob, 3, 2);
        mine.start = t0;
        mine.status = (h, t) -> "changed";
        ingest(mine.lines(), ALICE);
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private void ingest(List<String> lines, String auth) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), String.join("\n", lines), auth);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Http.json(r.body()).path("rejected").size()).as(r.body()).isZero();
    }

    private JsonNode get(String path) {
        return get(path, TestUsers.ADMIN_AUTH);
    }

    private JsonNode get(String path, String auth) {
        HttpResponse<String> r = Http.get(node.uri(path), auth);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return Http.json(r.body());
    }

    private static JsonNode host(JsonNode hosts, String name) {
        for (JsonNode h : hosts) if (h.path("host_name").asText().equals(name)) return h;
        throw new AssertionError(name + " not in " + hosts);
    }

    @Test
    void host_summaries_are_the_stats_events_counts_in_awxs_shape_paged_by_host_name() {
        JsonNode page = get("/api/v2/jobs/" + A + "/job_host_summaries/");
        assertThat(page.path("count").asInt()).isEqualTo(5);
        JsonNode h1 = page.path("results").get(0);
        assertThat(h1.path("type").asText()).isEqualTo("job_host_summary");
        assertThat(h1.path("job").asLong()).isEqualTo(A);
        assertThat(h1.path("host_name").asText()).isEqualTo("host0001");
        assertThat(h1.path("summary_fields").path("host").path("name").asText()).isEqualTo("host0001");
        assertThat(h1.path("summary_fields").path("job").path("id").asLong()).isEqualTo(A);
        for (String f : List.of(
                "id",
                "created",
                "modified",
                "host",
                "ok",
                "changed",
                "failures",
                "dark",
                "skipped",
                "rescued",
                "ignored",
                "processed",
                "failed")) assertThat(h1.has(f)).as(f).isTrue();
        assertThat(h1.path("ok").asInt()).isEqualTo(4);
        assertThat(h1.path("changed").asInt()).isEqualTo(1);
        assertThat(h1.path("failed").asBoolean()).isFalse();
        JsonNode h2 = page.path("results").get(1);
        assertThat(h2.path("failures").asInt()).isEqualTo(1);
        assertThat(h2.path("failed").asBoolean()).isTrue();
        assertThat(page.path("results").get(2).path("ignored").asInt()).isEqualTo(1);
        assertThat(page.path("results").get(3).path("skipped").asInt()).isEqualTo(1);
        assertThat(page.path("results").get(4).path("dark").asInt()).isEqualTo(1);
        assertThat(page.path("results").get(4).path("failed").asBoolean()).isTrue();

        JsonNode paged = get("/api/v2/jobs/" + A + "/job_host_summaries/?page_size=2&page=3");
        assertThat(paged.path("results").size()).isEqualTo(1);
        assertThat(paged.path("next").isNull()).isTrue();
        assertThat(paged.path("previous").asText()).contains("page=2");
        JsonNode failed = get("/api/v2/jobs/" + A + "/job_host_summaries/?failed=true");
        assertThat(failed.path("count").asInt()).isEqualTo(2);
    }

    @Test
    void a_running_jobs_host_summaries_are_counted_from_its_results_so_far() {
        JsonNode page = get("/api/v2/jobs/" + RUNNING + "/job_host_summaries/");
        assertThat(page.path("count").asInt()).isEqualTo(4);
        JsonNode h4 = page.path("results").get(3);
        assertThat(h4.path("host_name").asText()).isEqualTo("host0004");
        assertThat(h4.path("ok").asInt()).isEqualTo(2); // the third task has no result yet
        assertThat(page.path("results").get(0).path("ok").asInt()).isEqualTo(3);
    }

    @Test
    void the_timeline_lists_tasks_in_order_with_per_host_times_and_flags_the_slow_host() {
        JsonNode tl = get("/api/v2/jobs/" + A + "/timeline/");
        assertThat(tl.path("count").asInt()).isEqualTo(4);
        assertThat(tl.path("running").asBoolean()).isFalse();
        JsonNode tasks = tl.path("tasks");
        assertThat(tasks.size()).isEqualTo(4);
        for (int t = 0; t < 4; t++) {
            JsonNode task = tasks.get(t);
            assertThat(task.path("task").asText()).isEqualTo(SyntheticRun.taskName(t));
            assertThat(task.path("play").asText()).isEqualTo("all");
            assertThat(task.path("uuid").asText()).isEqualTo(A + "-task-" + t);
            assertThat(task.path("hosts").size()).isEqualTo(5);
            assertThat(Instant.parse(task.path("start").asText()))
                    .isEqualTo(t0.plus(Duration.ofSeconds(10L * (t + 1))));
        }
        JsonNode task3 = tasks.get(2);
        // the slow host: 9 s against the others' 0.5..0.8 s; the task lasts until it ends
        assertThat(task3.path("duration").asDouble()).isCloseTo(9.004, org.assertj.core.data.Offset.offset(0.001));
        assertThat(host(task3.path("hosts"), "host0005").path("slow").asBoolean())
                .isTrue();
        assertThat(host(task3.path("hosts"), "host0005").path("duration").asDouble())
                .isEqualTo(9.0);
        assertThat(host(task3.path("hosts"), "host0001").path("slow").asBoolean())
                .isFalse();
        assertThat(host(task3.path("hosts"), "host0002").path("status").asText())
                .isEqualTo("failed");
        JsonNode task4 = tasks.get(3);
        assertThat(host(task4.path("hosts"), "host0003").path("status").asText())
                .isEqualTo("failed");
        assertThat(host(task4.path("hosts"), "host0003").path("ignored").asBoolean())
                .isTrue();
        assertThat(host(task4.path("hosts"), "host0005").path("status").asText())
                .isEqualTo("unreachable");
        assertThat(host(tasks.get(1).path("hosts"), "host0001").path("status").asText())
                .isEqualTo("changed");
        assertThat(host(tasks.get(0).path("hosts"), "host0004").path("status").asText())
                .isEqualTo("skipped");
        assertThat(tasks.get(0).path("counts").path("ok").asInt()).isEqualTo(4);

        JsonNode slowest = get("/api/v2/jobs/" + A + "/timeline/?order_by=-duration&hosts=0&page_size=1");
        assertThat(slowest.path("tasks").get(0).path("task").asText()).isEqualTo("task 3");
        assertThat(slowest.path("tasks").get(0).has("hosts")).isFalse();
        assertThat(slowest.path("next").asText()).contains("page=2");
    }

    @Test
    void a_running_jobs_timeline_marks_the_host_still_on_its_task_running_with_its_elapsed_time() {
        JsonNode tl = get("/api/v2/jobs/" + RUNNING + "/timeline/");
        assertThat(tl.path("running").asBoolean()).isTrue();
        JsonNode last = tl.path("tasks").get(2);
        assertThat(last.path("running").asBoolean()).isTrue();
        assertThat(last.path("end").isNull()).isTrue();
        JsonNode h4 = host(last.path("hosts"), "host0004");
        assertThat(h4.path("status").asText()).isEqualTo("running");
        assertThat(h4.path("end").isNull()).isTrue();
        // started about 45 s ago (60 s - 3 x 5 s): far beyond its three peers' 0.5..0.7 s
        assertThat(h4.path("elapsed").asDouble()).isGreaterThan(40);
        assertThat(h4.path("slow").asBoolean()).isTrue();
        assertThat(host(last.path("hosts"), "host0001").path("status").asText()).isEqualTo("ok");
        assertThat(last.path("counts").path("running").asInt()).isEqualTo(1);
        assertThat(tl.path("tasks").get(1).path("running").asBoolean()).isFalse();
    }

    @Test
    void the_timeline_follows_new_events_and_events_that_arrive_late_below_what_it_had_read() {
        long job = 1004;
        SyntheticRun r = new SyntheticRun(job, 3, 2);
        r.start = t0;
        List<String> lines = r.lines();
        String late = lines.stream()
                .filter(l -> l.contains("\"" + job + "-r-1-1\""))
                .findFirst()
                .orElseThrow();
        List<String> first = new ArrayList<>(lines.subList(0, lines.size() - 2)); // no stats, no EOF
        first.remove(late);
        ingest(first, TestUsers.ADMIN_AUTH);
        JsonNode before = get("/api/v2/jobs/" + job + "/timeline/");
        assertThat(before.path("running").asBoolean()).isTrue();
        assertThat(host(before.path("tasks").get(1).path("hosts"), "host0002")
                        .path("status")
                        .asText())
                .isEqualTo("running");

        ingest(List.of(late), TestUsers.ADMIN_AUTH); // a counter below the highest one the model has read
        JsonNode after = get("/api/v2/jobs/" + job + "/timeline/");
        assertThat(host(after.path("tasks").get(1).path("hosts"), "host0002")
                        .path("status")
                        .asText())
                .isEqualTo("ok");
        assertThat(after.path("tasks").get(1).path("running").asBoolean()).isFalse();

        ingest(lines.subList(lines.size() - 2, lines.size()), TestUsers.ADMIN_AUTH);
        assertThat(get("/api/v2/jobs/" + job + "/timeline/").path("running").asBoolean())
                .isFalse();
        assertThat(get("/api/v2/jobs/" + job + "/job_host_summaries/")
                        .path("results")
                        .get(1)
                        .path("ok")
                        .asInt())
                .isEqualTo(2);
    }

    @Test
    void compare_lists_the_differing_results_and_what_only_one_run_has() {
        JsonNode c = get("/api/v2/jobs/" + A + "/compare/" + B + "/");
        assertThat(c.path("a").path("id").asLong()).isEqualTo(A);
        assertThat(c.path("b").path("id").asLong()).isEqualTo(B);
        assertThat(c.path("tasks_compared").asInt()).isEqualTo(4);
        assertThat(c.path("tasks_only_in_a").size()).isZero();
        assertThat(c.path("tasks_only_in_b").get(0).path("task").asText()).isEqualTo("task 5");
        assertThat(c.path("hosts_only_in_b").get(0).asText()).isEqualTo("host0006");
        assertThat(c.path("hosts_only_in_a").size()).isZero();
        List<String> diffs = new ArrayList<>();
        for (JsonNode d : c.path("differences"))
            diffs.add(d.path("task").asText() + "/" + d.path("host_name").asText() + ": "
                    + d.path("a").asText() + " -> " + d.path("b").asText());
        assertThat(diffs)
                .containsExactly(
                        "task 1/host0004: skipped -> ok",
                        "task 2/host0002: ok -> changed",
                        "task 4/host0003: failed -> ok",
                        "task 4/host0005: unreachable -> ok");
        assertThat(c.path("count").asInt()).isEqualTo(4);
        JsonNode paged = get("/api/v2/jobs/" + A + "/compare/" + B + "/?page_size=3&page=2");
        assertThat(paged.path("differences").size()).isEqualTo(1);
    }

    @Test
    void a_job_compared_with_itself_has_no_differences() {
        JsonNode c = get("/api/v2/jobs/" + A + "/compare/" + A + "/");
        assertThat(c.path("count").asInt()).isZero();
        assertThat(c.path("differences").size()).isZero();
        assertThat(c.path("tasks_only_in_a").size() + c.path("tasks_only_in_b").size())
                .isZero();
        assertThat(c.path("hosts_only_in_a").size() + c.path("hosts_only_in_b").size())
                .isZero();
        assertThat(c.path("tasks_compared").asInt()).isEqualTo(4);
    }

    @Test
    void search_finds_which_runs_changed_a_host_newest_first_with_keyset_pages_and_no_count() {
        JsonNode first = get("/api/v2/job_events/?host_name=host0002&changed=true&page_size=1");
        assertThat(first.has("count")).isFalse();
        List<String> seen = new ArrayList<>();
        JsonNode page = first;
        while (true) {
            for (JsonNode e : page.path("results")) {
                assertThat(e.path("host_name").asText()).isEqualTo("host0002");
                assertThat(e.path("changed").asBoolean()).isTrue();
                seen.add(e.path("job").asLong() + ":" + e.path("counter").asInt());
            }
            if (page.path("next").isNull()) break;
            page = get(page.path("next").asText());
        }
        // alice's job (lowest id) has host0002 changed on both tasks, B on task 2; A's change was host0001
        assertThat(seen).hasSize(3);
        assertThat(seen.get(0)).startsWith(B + ":");
        assertThat(seen.get(1)).startsWith(aliceJob + ":");
        long c1 = Long.parseLong(seen.get(1).split(":")[1]);
        long c2 = Long.parseLong(seen.get(2).split(":")[1]);
        assertThat(c1).isGreaterThan(c2);
        JsonNode stats = get("/api/v2/job_events/?event=playbook_on_stats");
        List<Long> jobs = new ArrayList<>();
        for (JsonNode e : stats.path("results")) jobs.add(e.path("job").asLong());
        assertThat(jobs).containsSubsequence(B, A, aliceJob).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        assertThat(stats.path("results")
                        .get(0)
                        .path("summary_fields")
                        .path("job")
                        .path("id")
                        .asLong())
                .isEqualTo(jobs.get(0));
        JsonNode failed = get("/api/v2/job_events/?failed=true&event=runner_on_failed");
        assertThat(failed.path("results").size()).isEqualTo(2); // B's and A's host0002; A's ignored one is not failed
    }

    @Test
    void search_shows_each_user_only_the_jobs_they_may_see() {
        JsonNode mine = get("/api/v2/job_events/?changed=true", ALICE);
        // 3 hosts x 2 tasks, and the stats event (changed when a host changed, as in AWX)
        assertThat(mine.path("results").size()).isEqualTo(7);
        for (JsonNode e : mine.path("results"))
            assertThat(e.path("job").asLong()).isEqualTo(aliceJob);
        assertThat(get("/api/v2/job_events/?changed=true", BOB).path("results").size())
                .isZero();
        assertThat(get("/api/v2/job_events/?host_name=host0001", BOB)
                        .path("results")
                        .size())
                .isZero();
        JsonNode paged = get("/api/v2/job_events/?changed=true&page_size=4", ALICE);
        assertThat(paged.path("results").size()).isEqualTo(4);
        JsonNode rest = get(paged.path("next").asText(), ALICE);
        assertThat(rest.path("results").size()).isEqualTo(3);
        assertThat(rest.path("next").isNull()).isTrue();
    }

    @Test
    void another_users_job_is_refused_on_every_analysis_route_as_on_the_other_job_routes() {
        for (String path : List.of(
                "/api/v2/jobs/" + aliceJob + "/job_host_summaries/",
                "/api/v2/jobs/" + aliceJob + "/timeline/",
                "/api/v2/jobs/" + aliceJob + "/compare/" + aliceJob + "/",
                "/api/v2/jobs/" + aliceJob + "/",
                "/api/v2/jobs/" + aliceJob + "/stdout/?timestamps=1")) {
            HttpResponse<String> r = Http.get(node.uri(path), BOB);
            assertThat(r.statusCode()).as(path).isEqualTo(403);
            assertThat(r.body()).as(path).doesNotContain("host0001");
            assertThat(Http.get(node.uri(path), ALICE).statusCode()).as(path).isEqualTo(200);
        }
        // both jobs of a compare must be visible: alice sees hers, not A
        assertThat(Http.get(node.uri("/api/v2/jobs/" + aliceJob + "/compare/" + A + "/"), ALICE)
                        .statusCode())
                .isEqualTo(403);
        assertThat(Http.get(node.uri("/api/v2/jobs/" + A + "/compare/" + aliceJob + "/"), ALICE)
                        .statusCode())
                .isEqualTo(403);
        assertThat(Http.get(node.uri("/api/v2/jobs/99999999/timeline/")).statusCode())
                .isEqualTo(404);
        assertThat(Http.get(node.uri("/api/v2/jobs/" + A + "/compare/99999999/"))
                        .statusCode())
                .isEqualTo(404);
        assertThat(Http.get(node.uri("/api/v2/jobs/abc/timeline/")).statusCode())
                .isEqualTo(404);
    }

    @Test
    void absurd_page_sizes_and_filters_are_refused_with_a_reason() {
        Map<String, String> refused = Map.ofEntries(
                Map.entry("/api/v2/jobs/" + A + "/timeline/?page_size=0", "page_size"),
                Map.entry("/api/v2/jobs/" + A + "/timeline/?page_size=100000", "page_size"),
                Map.entry("/api/v2/jobs/" + A + "/timeline/?page_size=abc", "page_size"),
                Map.entry("/api/v2/jobs/" + A + "/timeline/?page=-1", "page"),
                Map.entry("/api/v2/jobs/" + A + "/timeline/?order_by=name", "order_by"),
                Map.entry("/api/v2/jobs/" + A + "/timeline/?hosts=maybe", "hosts"),
                Map.entry("/api/v2/jobs/" + A + "/job_host_summaries/?page_size=99999999999", "page_size"),
                Map.entry("/api/v2/jobs/" + A + "/job_host_summaries/?frobnicate=1", "frobnicate"),
                Map.entry("/api/v2/jobs/" + A + "/compare/" + B + "/?page_size=201", "page_size"),
                Map.entry("/api/v2/job_events/?page_size=1000", "page_size"),
                Map.entry("/api/v2/job_events/?changed=maybe", "changed"),
                Map.entry("/api/v2/job_events/?failed=", "failed"),
                Map.entry("/api/v2/job_events/?before=x:y", "before"),
                Map.entry("/api/v2/job_events/?before=5", "before"),
                Map.entry("/api/v2/job_events/?event=" + "e".repeat(101), "event"),
                Map.entry("/api/v2/job_events/?host_name=", "host_name"),
                Map.entry("/api/v2/job_events/?counter__gt=1", "counter__gt"),
                Map.entry("/api/v2/job_events/?host_name=a&host_name=b", "host_name"),
                Map.entry("/api/v2/jobs/" + A + "/stdout/?timestamps=maybe", "timestamps"));
        refused.forEach((path, param) -> {
            HttpResponse<String> r = Http.get(node.uri(path));
            assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
            assertThat(Http.json(r.body()).path("detail").asText()).as(path).contains(param);
        });
        assertThat(Http.get(node.uri("/api/v2/jobs/" + A + "/timeline/?page=99"))
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void stdout_with_timestamps_prefixes_every_line_with_its_events_created_time() {
        String plain = Http.get(node.uri("/api/v2/jobs/" + A + "/stdout/?format=txt_download"))
                .body();
        HttpResponse<String> r = Http.get(node.uri("/api/v2/jobs/" + A + "/stdout/?format=txt_download&timestamps=1"));
        assertThat(r.statusCode()).isEqualTo(200);
        String[] lines = r.body().split("\n");
        String[] plainLines = plain.split("\n");
        assertThat(lines).hasSameSizeAs(plainLines);
        // the first task start event: created t0 + 10 s, stdout "TASK [task 1]"
        assertThat(r.body()).contains(ApiJson.time(t0.plus(Duration.ofSeconds(10))) + " TASK [task 1]\n");
        for (int i = 0; i < lines.length; i++) {
            assertThat(lines[i]).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z .*");
            assertThat(lines[i].substring(28)).isEqualTo(plainLines[i]);
        }
        assertThat(Http.get(node.uri("/api/v2/jobs/" + A + "/stdout/?format=txt&timestamps=0"))
                        .body())
                .isEqualTo(plain);
    }
}
