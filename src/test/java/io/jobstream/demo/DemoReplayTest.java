package io.jobstream.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.testing.ManualClock;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoReplayTest {
    private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

    private final ManualClock clock = new ManualClock(T0);
    private final List<Instant> postTimes = new ArrayList<>();
    private final List<List<JsonNode>> batches = new ArrayList<>();
    private final DemoReplay replay = new DemoReplay(clock, clock::advance, Duration.ofSeconds(2));

    private final DemoReplay.Sink sink = ndjson -> {
        postTimes.add(clock.instant());
        List<JsonNode> lines = new ArrayList<>();
        for (String line : ndjson.split("\n")) lines.add(parse(line));
        batches.add(lines);
    };

    /** Five events: 1 and 2 together, 3 after 500 ms, 4 after a 60 s pause (capped to 2 s), 5 same instant as 4. */
    private static DemoRecording.Run run() throws Exception {
        String lines = String.join(
                "\n",
                event(2, "2026-11-27T23:49:54.100000", "site"),
                event(1, "2026-11-27T23:49:54.100000", "site"),
                event(3, "2026-11-27T23:49:54.600000", "site"),
                event(4, "2026-11-27T23:50:54.600000", "site"),
                event(5, "2026-11-27T23:50:54.600000", "site"),
                event(1, "2026-11-27T23:51:00.000000", "other"));
        List<DemoRecording.Run> runs =
                DemoRecording.read(new ByteArrayInputStream(lines.getBytes(StandardCharsets.UTF_8)));
        assertThat(runs).extracting(DemoRecording.Run::name).containsExactly("site", "other");
        return runs.get(0);
    }

    private static String event(int counter, String created, String run) {
        return "{\"counter\":" + counter + ",\"created\":\"" + created
                + "\",\"event\":\"runner_on_ok\",\"stdout\":\"line " + counter + "\",\"_fixture_run\":\"" + run + "\"}";
    }

    @Test
    void events_due_together_go_in_one_batch_at_the_recorded_pace_with_long_gaps_capped() throws Exception {
        int count = replay.play(run(), 42, sink);

        assertThat(count).isEqualTo(3);
        assertThat(batches).hasSize(4); // three event batches and the EOF
        assertThat(counters(batches.get(0))).containsExactly(1, 2);
        assertThat(counters(batches.get(1))).containsExactly(3);
        assertThat(counters(batches.get(2))).containsExactly(4, 5);
        assertThat(postTimes).containsExactly(T0, T0.plusMillis(500), T0.plusMillis(2500), T0.plusMillis(2500));
    }

    @Test
    void events_are_rewritten_to_the_new_job_and_the_send_time_without_the_fixture_field() throws Exception {
        replay.play(run(), 42, sink);

        JsonNode third = batches.get(1).get(0);
        assertThat(third.get("job_id").asLong()).isEqualTo(42);
        assertThat(third.get("created").asText()).isEqualTo("2030-01-01T00:00:00.500000+00:00");
        assertThat(third.has("_fixture_run")).isFalse();
        assertThat(third.get("stdout").asText()).isEqualTo("line 3");
    }

    @Test
    void the_replay_ends_with_an_eof_carrying_the_number_of_events() throws Exception {
        replay.play(run(), 42, sink);

        JsonNode eof = batches.get(batches.size() - 1).get(0);
        assertThat(eof.get("event").asText()).isEqualTo("EOF");
        assertThat(eof.get("job_id").asLong()).isEqualTo(42);
        assertThat(eof.get("final_counter").asInt()).isEqualTo(5);
    }

    @Test
    void the_recording_is_not_changed_by_a_replay_so_it_can_be_replayed_again() throws Exception {
        DemoRecording.Run run = run();
        replay.play(run, 42, sink);
        replay.play(run, 43, sink);

        assertThat(run.events().get(0).json().has("job_id")).isFalse();
        assertThat(batches.get(4).get(0).get("job_id").asLong()).isEqualTo(43);
    }

    @Test
    void a_slow_sink_makes_the_replay_send_everything_already_due_in_one_batch() throws Exception {
        DemoReplay.Sink slow = ndjson -> {
            sink.post(ndjson);
            clock.advance(Duration.ofSeconds(10)); // the post itself took 10 s
        };
        replay.play(run(), 42, slow);

        assertThat(counters(batches.get(0))).containsExactly(1, 2);
        assertThat(counters(batches.get(1))).containsExactly(3, 4, 5);
    }

    @Test
    void the_shipped_recording_has_both_runs_complete_in_counter_order() {
        List<DemoRecording.Run> runs = DemoRecording.load();

        assertThat(runs).extracting(DemoRecording.Run::name).containsExactly("site", "long_output");
        assertThat(runs).extracting(r -> r.events().size()).containsExactly(699, 89);
        for (DemoRecording.Run r : runs) {
            for (int i = 0; i < r.events().size(); i++)
                assertThat(r.events().get(i).counter()).isEqualTo(i + 1);
        }
    }

    private static JsonNode parse(String line) {
        try {
            return Json.MAPPER.readTree(line);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Integer> counters(List<JsonNode> batch) {
        List<Integer> out = new ArrayList<>();
        batch.forEach(n -> out.add(n.get("counter").asInt()));
        return out;
    }
}
