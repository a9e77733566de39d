package io.jobstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.event.EventDecoder;
import io.jobstream.testing.ManualClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner-event converter and the artifact reader, on hand-made (and hostile) artifact directories. */
class RunnerEventsTest {
    private static final RunnerArtifact.Limits LIMITS = new RunnerArtifact.Limits(4096, 100, 1 << 20);
    private final RunnerEvents converter =
            new RunnerEvents(new EventDecoder(4096, new ManualClock(java.time.Instant.parse("2026-12-06T10:00:00Z"))));

    @TempDir
    Path tmp;
    /** The artifact directory; files "outside" it go in tmp. */
    private Path dir;

    private static String event(int counter, String uuid, String stdout) {
        return "{\"uuid\": \"" + uuid + "\", \"counter\": " + counter + ", \"stdout\": \"" + stdout + "\","
                + " \"start_line\": 0, \"end_line\": 1, \"runner_ident\": \"abc\", \"event\": \"runner_on_ok\","
                + " \"pid\": 42, \"created\": \"2026-12-06T09:34:47.756208\", \"parent_uuid\": \"p-1\","
                + " \"event_data\": {\"host\": \"web1\", \"task\": \"t\", \"res\": {\"changed\": true}}}";
    }

    /** An artifact of {@code n} events whose stdout is "line i" each, and a matching stdout file. */
    private Path artifact(int n) throws IOException {
        dir = tmp.resolve("run");
        Files.createDirectories(dir.resolve("job_events"));
        StringBuilder stdout = new StringBuilder();
        for (int c = 1; c <= n; c++) {
            Files.writeString(
                    dir.resolve("job_events/" + c + "-u" + c + ".json"), event(c, "u" + c, "line " + c + "\\r\\nmore"));
            stdout.append("line ").append(c).append("\r\nmore\n");
        }
        Files.writeString(dir.resolve("stdout"), stdout);
        Files.writeString(dir.resolve("status"), "successful");
        Files.writeString(dir.resolve("rc"), "0");
        return dir;
    }

    private List<RunnerEvents.Line> readAll(Path artifactDir) throws Exception {
        List<RunnerEvents.Line> lines = new ArrayList<>();
        RunnerArtifact.open(artifactDir, LIMITS).read(converter, 9, lines::add);
        return lines;
    }

    private void refused(String... reason) {
        assertThatThrownBy(() -> readAll(dir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll(reason);
    }

    @Test
    void a_runner_event_becomes_an_ingest_line_for_the_job_with_its_created_in_utc() {
        RunnerEvents.Line line = converter.convert("x", event(3, "u3", "hi").getBytes(StandardCharsets.UTF_8), 9);
        assertThat(line.json())
                .startsWith("{\"job_id\":9,\"counter\":3,\"uuid\":\"u3\"")
                .contains("\"created\":\"2026-12-06T09:34:47.756208+00:00\"", "\"host_name\":\"web1\"")
                .doesNotContain("runner_ident", "pid");
        assertThat(line.event().jobId()).isEqualTo(9);
        assertThat(line.event().event()).isEqualTo("runner_on_ok");
        assertThat(line.event().hostName()).isEqualTo("web1");
    }

    @Test
    void events_are_read_in_counter_order_and_reproduce_the_runners_stdout() throws Exception {
        RunnerArtifact a = RunnerArtifact.open(artifact(12), LIMITS);
        assertThat(a.status()).contains("successful");
        assertThat(a.rc()).contains(0);
        assertThat(readAll(dir))
                .extracting(l -> l.event().counter())
                .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    }

    @Test
    void non_json_is_refused_with_the_file_name() throws Exception {
        artifact(3);
        Files.writeString(dir.resolve("job_events/2-u2.json"), "{\"counter\": 2, oops");
        refused("job_events/2-u2.json", "not JSON");
    }

    @Test
    void a_json_value_that_is_not_an_event_is_refused() throws Exception {
        artifact(2);
        Files.writeString(dir.resolve("job_events/2-u2.json"), "[1, 2]");
        refused("job_events/2-u2.json", "not a JSON object");
        Files.writeString(
                dir.resolve("job_events/2-u2.json"), "{\"counter\": \"2\", \"uuid\": \"u2\", \"event\": \"x\"}");
        refused("no integer counter");
    }

    @Test
    void a_file_larger_than_an_event_may_be_is_refused_before_it_is_read() throws Exception {
        artifact(2);
        Files.writeString(dir.resolve("job_events/2-u2.json"), event(2, "u2", "x".repeat(200_000)));
        refused("job_events/2-u2.json is 2", "more than");
    }

    @Test
    void an_event_just_over_the_nodes_limit_is_refused_as_the_node_would() throws Exception {
        artifact(2);
        Files.writeString(dir.resolve("job_events/2-u2.json"), event(2, "u2", "x".repeat(5000)));
        refused("job_events/2-u2.json", "event is");
    }

    @Test
    void a_duplicated_counter_is_refused() throws Exception {
        artifact(3);
        Files.writeString(dir.resolve("job_events/2-other.json"), event(2, "other", "line 2\\r\\nmore"));
        refused("counter 2 twice");
    }

    @Test
    void a_missing_counter_is_refused_since_the_job_would_never_finish() throws Exception {
        artifact(4);
        Files.delete(dir.resolve("job_events/3-u3.json"));
        refused("counter 3 is missing");
    }

    @Test
    void a_file_whose_content_disagrees_with_its_name_is_refused() throws Exception {
        artifact(3);
        Files.writeString(dir.resolve("job_events/2-u2.json"), event(3, "u2", "line 2\\r\\nmore"));
        refused("2-u2.json", "not what its name says");
    }

    @Test
    void links_out_of_the_directory_are_never_followed() throws Exception {
        artifact(2);
        Path outside = Files.writeString(tmp.resolve("secret.json"), event(3, "u3", "secret"));
        Files.createSymbolicLink(dir.resolve("job_events/3-u3.json"), outside);
        refused("job_events/3-u3.json is a symbolic link");
        Files.delete(dir.resolve("job_events/3-u3.json"));
        Files.move(dir.resolve("stdout"), tmp.resolve("elsewhere-stdout"));
        Files.createSymbolicLink(dir.resolve("stdout"), tmp.resolve("elsewhere-stdout"));
        refused("stdout is a symbolic link");
    }

    @Test
    void a_job_events_directory_that_is_a_link_is_refused() throws Exception {
        artifact(2);
        Files.move(dir.resolve("job_events"), tmp.resolve("elsewhere"));
        Files.createSymbolicLink(dir.resolve("job_events"), tmp.resolve("elsewhere"));
        refused("job_events is not a directory of its own");
    }

    @Test
    void without_a_stdout_file_the_events_are_read_all_the_same() throws Exception {
        artifact(3);
        Files.delete(dir.resolve("stdout"));
        assertThat(RunnerArtifact.open(dir, LIMITS).hasStdout()).isFalse();
        assertThat(readAll(dir)).hasSize(3);
    }

    @Test
    void an_unfinished_run_or_a_stray_file_is_refused() throws Exception {
        artifact(2);
        Files.writeString(dir.resolve("job_events/u3-partial.json"), "{}");
        refused("u3-partial.json", "has not finished");
        Files.delete(dir.resolve("job_events/u3-partial.json"));
        Files.writeString(dir.resolve("job_events/notes\u001b[31m.txt"), "x");
        assertThatThrownBy(() -> readAll(dir))
                .hasMessageContaining("not an event file")
                .hasMessageContaining("notes?[31m.txt")
                .hasMessageNotContaining("\u001b"); // no terminal escapes
    }

    @Test
    void a_stdout_the_events_do_not_reproduce_is_refused() throws Exception {
        artifact(3);
        Files.writeString(
                dir.resolve("stdout"), Files.readString(dir.resolve("stdout")).replace("line 2", "line X"));
        refused("stdout differs at byte", "event 2");
        artifact(3);
        Files.writeString(dir.resolve("stdout"), Files.readString(dir.resolve("stdout")) + "extra\n");
        refused("stdout goes on past byte");
    }

    @Test
    void a_directory_that_is_not_an_artifact_says_what_an_artifact_is() {
        assertThatThrownBy(() -> RunnerArtifact.open(tmp, LIMITS)).hasMessageContaining("artifacts/<ident>/");
    }

    @Test
    void an_event_ingest_would_alter_is_refused() throws Exception {
        artifact(2);
        Files.writeString(dir.resolve("job_events/2-u2.json"), event(2, "u2", "nul\\u0000byte"));
        refused("2-u2.json", "would be altered by ingest");
    }
}
