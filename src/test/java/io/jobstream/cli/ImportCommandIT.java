package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.testing.Binaries;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./jobstream import ARTIFACT_DIR}: a run made by a real ansible-runner (Debian's python3-ansible-runner) is
 * loaded into a real node; what the node shows is what the runner printed, and a second import stores nothing.
 */
class ImportCommandIT {
    private static final String PLAYBOOK = """
            - hosts: all
              gather_facts: false
              tasks:
                - name: say hello in two scripts
                  debug:
                    msg: "héllo wörld, 你好"
                - name: change something
                  command: echo changed
                - name: loop over items
                  debug:
                    msg: "item {{ item }}"
                  loop: [1, 2, 3]
                - name: fail but carry on
                  command: /bin/false
                  ignore_errors: true
                - name: skipped
                  debug: msg=never
                  when: false
            """;

    private static final String FAILING_PLAYBOOK = """
            - hosts: all
              gather_facts: false
              tasks:
                - name: works
                  command: echo ok
                - name: fails on one host
                  command: /bin/false
                  when: inventory_hostname == "web2"
                - name: only web1 gets here
                  debug: msg=still
            """;

    @TempDir
    static Path runs;

    static Path artifact;
    /** A run where a task failed on one host: the runner says "failed", rc 2. */
    static Path failedArtifact;

    @TempDir
    Path dir;

    /** One real ansible-runner run for every test: its artifact directory, read-only input for the tests that copy it. */
    @BeforeAll
    static void runAnsibleRunner() throws Exception {
        artifact = runAnsibleRunner("ok", PLAYBOOK, 0);
        failedArtifact = runAnsibleRunner("failed", FAILING_PLAYBOOK, 2);
    }

    /** {@code ansible-runner run DIR -p playbook.yml} on two local hosts; returns its artifacts/<ident>/ directory. */
    private static Path runAnsibleRunner(String name, String playbook, int exit) throws Exception {
        Path privateData = runs.resolve(name);
        Files.createDirectories(privateData.resolve("project"));
        Files.createDirectories(privateData.resolve("inventory"));
        Files.writeString(privateData.resolve("project/playbook.yml"), playbook);
        Files.writeString(
                privateData.resolve("inventory/hosts"),
                "web1 ansible_connection=local ansible_python_interpreter=" + Binaries.ansiblePython() + "\n"
                        + "web2 ansible_connection=local ansible_python_interpreter=" + Binaries.ansiblePython()
                        + "\n");
        Path log = runs.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(
                        Binaries.ansibleRunner().toString(), "run", privateData.toString(), "-p", "playbook.yml")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("ANSIBLE_LOCAL_TEMP", runs.resolve("ansible-tmp").toString());
        pb.environment().put("ANSIBLE_REMOTE_TEMP", runs.resolve("ansible-tmp").toString());
        Process p = pb.start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS))
                .as("ansible-runner finished")
                .isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isEqualTo(exit);
        Path ident;
        try (Stream<Path> idents = Files.list(privateData.resolve("artifacts"))) {
            ident = idents.findFirst().orElseThrow();
        }
        assertThat(ident.resolve("stdout")).isNotEmptyFile();
        return ident;
    }

    @Test
    void a_failed_runner_run_is_a_failed_job_with_the_runners_events_and_output() throws Exception {
        Path input = copy(failedArtifact, dir.resolve("failed"));
        assertThat(Files.readString(input.resolve("status")).trim()).isEqualTo("failed");
        List<JsonNode> runnerEvents = runnerEvents(input);
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            Result result = importDir(node, input);
            assertThat(result.exit).as(result.out).isZero();
            assertThat(result.out).contains("runner status failed", "runner rc 2");
            long job = result.job();
            Awaitility.await()
                    .atMost(30, TimeUnit.SECONDS)
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                            .path("event_processing_finished")
                            .asBoolean());
            JsonNode summary = Http.getJson(node.uri("/api/v2/jobs/" + job + "/"));
            assertThat(summary.path("status").asText()).isEqualTo("failed");
            assertThat(summary.path("failed").asBoolean()).isTrue();
            assertThat(storedEvents(node, job))
                    .extracting(e -> e.path("event").asText())
                    .containsExactlyElementsOf(runnerEvents.stream()
                            .map(e -> e.path("event").asText())
                            .toList())
                    .contains("runner_on_failed", "playbook_on_stats");
            assertThat(Http.get(node.uri("/api/v2/jobs/" + job + "/stdout/?format=ansi_download"))
                            .body())
                    .isEqualTo(Files.readString(input.resolve("stdout")).replace("\r\n", "\n"));
        }
    }

    @Test
    void a_real_runner_run_is_shown_as_the_runner_printed_it_and_importing_again_stores_nothing_twice()
            throws Exception {
        Path input = copy(artifact, dir.resolve("artifact"));
        List<JsonNode> runnerEvents = runnerEvents(input);
        byte[] runnerStdout = Files.readAllBytes(input.resolve("stdout"));
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            Result first = importDir(node, input);
            assertThat(first.exit).as(first.out).isZero();
            long job = first.job();
            assertThat(first.out).contains(runnerEvents.size() + " new, 0 already stored");
            Awaitility.await()
                    .atMost(30, TimeUnit.SECONDS)
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                            .path("event_processing_finished")
                            .asBoolean());

            List<JsonNode> stored = storedEvents(node, job);
            assertThat(stored).hasSameSizeAs(runnerEvents);
            for (int i = 0; i < stored.size(); i++) {
                JsonNode s = stored.get(i);
                JsonNode r = runnerEvents.get(i);
                assertThat(s.path("counter").asInt())
                        .isEqualTo(r.path("counter").asInt())
                        .isEqualTo(i + 1);
                assertThat(s.path("event").asText()).isEqualTo(r.path("event").asText());
                assertThat(s.path("uuid").asText()).isEqualTo(r.path("uuid").asText());
                assertThat(s.path("parent_uuid").asText())
                        .isEqualTo(r.path("parent_uuid").asText());
                assertThat(s.path("stdout").asText()).isEqualTo(r.path("stdout").asText());
                assertThat(s.path("start_line").asInt())
                        .isEqualTo(r.path("start_line").asInt());
                assertThat(s.path("end_line").asInt())
                        .isEqualTo(r.path("end_line").asInt());
            }
            // the stored text, byte for byte: each event's stdout and its newline make the runner's own file
            StringBuilder joined = new StringBuilder();
            for (JsonNode s : stored) {
                if (!s.path("stdout").asText().isEmpty())
                    joined.append(s.path("stdout").asText()).append('\n');
            }
            assertThat(joined.toString().getBytes(StandardCharsets.UTF_8)).isEqualTo(runnerStdout);
            // what /stdout/ serves is that text with AWX's one rewrite (reference §2.12): the pty's \r\n become \n
            byte[] served = Http.get(node.uri("/api/v2/jobs/" + job + "/stdout/?format=ansi_download"))
                    .body()
                    .getBytes(StandardCharsets.UTF_8);
            assertThat(served)
                    .isEqualTo(new String(runnerStdout, StandardCharsets.UTF_8)
                            .replace("\r\n", "\n")
                            .getBytes(StandardCharsets.UTF_8));
            JsonNode summary = Http.getJson(node.uri("/api/v2/jobs/" + job + "/"));
            assertThat(summary.path("status").asText()).isEqualTo("successful");

            // again without --job: the directory remembers its job, and nothing is stored twice
            Result again = importDir(node, input);
            assertThat(again.exit).as(again.out).isZero();
            assertThat(again.job()).isEqualTo(job);
            assertThat(again.out).contains("0 new, " + runnerEvents.size() + " already stored");
            // and with --job N
            Result named = importDir(node, input, "--job", Long.toString(job));
            assertThat(named.exit).as(named.out).isZero();
            assertThat(named.out).contains("0 new, " + runnerEvents.size() + " already stored");
            assertThat(storedEvents(node, job)).hasSameSizeAs(runnerEvents);
            assertThat(Http.get(node.uri("/api/v2/jobs/" + job + "/stdout/?format=ansi_download"))
                            .body()
                            .getBytes(StandardCharsets.UTF_8))
                    .isEqualTo(served);
        }
    }

    @Test
    void an_import_the_node_stops_halfway_says_so_and_the_same_command_finishes_it_without_duplicates()
            throws Exception {
        Path input = copy(artifact, dir.resolve("artifact"));
        int events = runnerEvents(input).size();
        byte[] runnerStdout = Files.readAllBytes(input.resolve("stdout"));
        long job;
        // a node whose event limit is below some of the runner's events (a module result is a kilobyte or two)
        try (RunningServer node = RunningServer.start(dir.resolve("data"), Map.of("ingest.max-event-size", "1KiB"))) {
            Result stopped = importDir(node, input);
            assertThat(stopped.exit).as(stopped.out).isEqualTo(1);
            job = stopped.job();
            assertThat(stopped.out)
                    .contains(
                            "import into job " + job + " stopped",
                            "the node rejected line",
                            "over the limit",
                            "run the same command with --job " + job);
            assertThat(storedEvents(node, job)).isNotEmpty().hasSizeLessThan(events);
        }
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            int before = storedEvents(node, job).size();
            Result finished = importDir(node, input);
            assertThat(finished.exit).as(finished.out).isZero();
            assertThat(finished.job()).isEqualTo(job);
            assertThat(finished.out).contains((events - before) + " new, " + before + " already stored");
            Awaitility.await()
                    .atMost(30, TimeUnit.SECONDS)
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                            .path("event_processing_finished")
                            .asBoolean());
            assertThat(Http.get(node.uri("/api/v2/jobs/" + job + "/stdout/?format=ansi_download"))
                            .body())
                    .isEqualTo(new String(runnerStdout, StandardCharsets.UTF_8).replace("\r\n", "\n"));
        }
    }

    @Test
    void a_job_holding_another_run_and_a_broken_artifact_are_refused_and_nothing_is_imported() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"))) {
            StringBuilder other = new StringBuilder();
            for (int c = 1; c <= 3; c++) other.append(Events.event(7, c)).append('\n');
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), other.toString())
                            .statusCode())
                    .isEqualTo(200);
            Path input = copy(artifact, dir.resolve("artifact"));
            Result refused = importDir(node, input, "--job", "7");
            assertThat(refused.exit).isEqualTo(1);
            assertThat(refused.out).contains("job 7 holds other events", "not this run");
            assertThat(storedEvents(node, 7)).hasSize(3);

            // a link out of the directory: refused before the node is asked for a job
            Path broken = copy(artifact, dir.resolve("broken"));
            int next = runnerEvents(broken).size() + 1;
            Files.createSymbolicLink(broken.resolve("job_events/" + next + "-0a0b0c0d.json"), Path.of("/etc/passwd"));
            int jobsBefore =
                    Http.getJson(node.uri("/api/v2/jobs/")).path("count").asInt();
            Result linked = importDir(node, broken);
            assertThat(linked.exit).isEqualTo(1);
            assertThat(linked.out)
                    .contains("is a symbolic link", "nothing imported")
                    .doesNotContain("root:");
            assertThat(Http.getJson(node.uri("/api/v2/jobs/")).path("count").asInt())
                    .isEqualTo(jobsBefore);
            assertThat(broken.resolve(ImportMarker.NAME)).doesNotExist();
        }
    }

    private record Result(int exit, String out) {
        long job() {
            Matcher m = Pattern.compile(" as job (\\d+)").matcher(out);
            assertThat(m.find()).as(out).isTrue();
            return Long.parseLong(m.group(1));
        }
    }

    private static Result importDir(RunningServer node, Path input, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "import",
                input.toString(),
                "--url",
                node.uri("/").toString(),
                "--data-dir",
                node.dataDir().toString()));
        args.addAll(List.of(more));
        StringWriter printed = new StringWriter();
        int exit = Main.commandLine()
                .setOut(new PrintWriter(printed))
                .setErr(new PrintWriter(printed))
                .execute(args.toArray(String[]::new));
        return new Result(exit, printed.toString());
    }

    private static List<JsonNode> storedEvents(RunningServer node, long job) {
        List<JsonNode> all = new ArrayList<>();
        Http.getJson(node.uri("/api/v2/jobs/" + job + "/job_events/?order_by=counter&no_truncate=1&page_size=200"))
                .path("results")
                .forEach(all::add);
        return all;
    }

    private static List<JsonNode> runnerEvents(Path artifactDir) throws IOException {
        List<JsonNode> events = new ArrayList<>();
        try (Stream<Path> files = Files.list(artifactDir.resolve("job_events"))) {
            for (Path f : files.toList()) events.add(Json.MAPPER.readTree(f.toFile()));
        }
        events.sort((a, b) ->
                Integer.compare(a.path("counter").asInt(), b.path("counter").asInt()));
        return events;
    }

    private static Path copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.resolve("job_events"));
        try (Stream<Path> files = Files.list(from.resolve("job_events"))) {
            for (Path f : files.toList()) Files.copy(f, to.resolve("job_events").resolve(f.getFileName()));
        }
        for (String name : List.of("stdout", "status", "rc")) {
            if (Files.exists(from.resolve(name))) Files.copy(from.resolve(name), to.resolve(name));
        }
        return to;
    }
}
