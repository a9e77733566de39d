package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.event.Timestamps;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class RunAnalysisTest {
    @Test
    void micros_are_formatted_as_the_apis_times() {
        MicrosTime f = new MicrosTime();
        for (String t : List.of(
                "2024-05-01T10:00:00.123456Z",
                "2024-05-01T23:59:59.999999Z",
                "2024-05-02T00:00:00.000001Z",
                "1969-12-31T23:59:59.500000Z",
                "2026-12-06T12:00:07.000000Z")) {
            Instant i = Instant.parse(t);
            assertThat(f.format(Timestamps.micros(i))).isEqualTo(ApiJson.time(i));
        }
    }

    @Test
    void stamped_stdout_prefixes_each_line_and_reads_crlf_as_one_line_end() {
        Instant t = Instant.parse("2024-05-01T10:00:00.5Z");
        assertThat(StdoutView.stamped(t, "one\r\ntwo"))
                .isEqualTo("2024-05-01T10:00:00.500000Z one\n2024-05-01T10:00:00.500000Z two");
        assertThat(StdoutView.stamped(t, "")).isEqualTo("2024-05-01T10:00:00.500000Z ");
    }

    @Test
    void a_host_is_slow_only_far_beyond_its_peers_and_only_with_enough_of_them() {
        assertThat(TimelineView.slow(9, 0.5)).isTrue();
        assertThat(TimelineView.slow(1.4, 0.4)).as("3.5x but only 1 s more").isFalse();
        assertThat(TimelineView.slow(5, 2)).as("2.5x").isFalse();
        assertThat(TimelineView.slow(100, Double.NaN)).as("too few peers").isFalse();
    }

    @Test
    void search_positions_are_job_colon_counter() {
        assertThat(SearchView.position("12:34")).isEqualTo(new EventSearch.Position(12, 34));
        assertThat(SearchView.position(null)).isNull();
        for (String bad : List.of("12", "a:1", "0:1", "1:0", "1:-2", "1:99999999999", ":", "1:2:3"))
            assertThatThrownBy(() -> SearchView.position(bad)).as(bad).isInstanceOf(ApiError.class);
    }

    /** A reader over a list that a test can grow, as the store grows while a job runs. */
    private static final class ListReader implements RunReader {
        final List<RunRow> rows = new ArrayList<>();
        int reads;

        @Override
        public void visit(long jobId, int after, Consumer<RunRow> visitor) {
            reads++;
            rows.stream()
                    .filter(r -> r.counter() > after)
                    .sorted((a, b) -> a.counter() - b.counter())
                    .forEach(visitor);
        }

        @Override
        public java.util.Optional<Stats> stats(long jobId) {
            return java.util.Optional.empty();
        }
    }

    private static JobView job(int stored) {
        return new JobView(
                1, "j", "p", "running", false, null, null, null, null, "", 0, null, stored, false, null, 0, 0, null,
                null, "full", 0, 0, false, "");
    }

    private static RunRow row(int counter, String event, String host, String task) {
        return new RunRow(
                counter,
                event,
                host,
                task,
                "play",
                event.contains("task") ? "t-" + task : "",
                false,
                false,
                counter * 1_000_000L);
    }

    @Test
    void the_cache_applies_new_rows_and_rebuilds_when_a_late_row_fills_a_gap() {
        ListReader reader = new ListReader();
        RunCache cache = new RunCache(reader, 1000);
        reader.rows.add(row(1, "playbook_on_task_start", "", "T"));
        reader.rows.add(row(2, "runner_on_start", "a", "T"));
        reader.rows.add(row(4, "runner_on_ok", "b", "T")); // 3 is late
        assertThat(cache.<java.util.Set<String>>with(
                        job(3), m -> m.tasks().get(0).hosts.keySet()))
                .containsExactly("a", "b");
        reader.rows.add(row(5, "runner_on_ok", "a", "T"));
        assertThat(cache.<String>with(job(4), m -> m.tasks().get(0).hosts.get("a").result))
                .isEqualTo("ok");
        assertThat(cache.with(job(4), RunModel::rows)).isEqualTo(4);
        reader.rows.add(row(3, "runner_on_start", "c", "T"));
        assertThat(cache.<java.util.Set<String>>with(
                        job(5), m -> m.tasks().get(0).hosts.keySet()))
                .containsExactlyInAnyOrder("a", "b", "c");
        assertThat(cache.with(job(5), RunModel::rows)).isEqualTo(5);
    }

    @Test
    void the_cache_forgets_the_least_recently_used_job_beyond_its_size() {
        ListReader reader = new ListReader();
        RunCache cache = new RunCache(reader, 3);
        reader.rows.add(row(1, "playbook_on_task_start", "", "T"));
        reader.rows.add(row(2, "runner_on_ok", "a", "T"));
        cache.with(job(2), RunModel::size); // 2: one task, one host result
        int reads = reader.reads;
        cache.with(job(2), RunModel::size);
        assertThat(reader.reads).as("kept: one catch-up read").isEqualTo(reads + 1);
        reader.rows.add(row(3, "runner_on_ok", "b", "T"));
        reader.rows.add(row(4, "runner_on_ok", "c", "T"));
        assertThat(cache.with(job(4), RunModel::size)).isEqualTo(4); // over 3: not kept
        reads = reader.reads;
        cache.with(job(4), RunModel::size);
        assertThat(reader.reads).as("rebuilt from nothing: one read").isEqualTo(reads + 1);
    }
}
