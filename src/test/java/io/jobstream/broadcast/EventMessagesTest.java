package io.jobstream.broadcast;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventMessagesTest {

    @Test
    void event_message_has_exactly_awx_fields_in_awx_order() throws Exception {
        String text = EventMessages.event(TestEvents.stored(981234, 42, 7, "\u001b[0;32mok: [web1]\u001b[0m"));

        JsonNode json = Json.MAPPER.readTree(text);
        List<String> names = new ArrayList<>();
        json.fieldNames().forEachRemaining(names::add);
        assertThat(names)
                .containsExactly(
                        "id",
                        "job",
                        "created",
                        "modified",
                        "group_name",
                        "url",
                        "stdout",
                        "counter",
                        "uuid",
                        "parent_uuid",
                        "start_line",
                        "end_line",
                        "event",
                        "event_data",
                        "failed",
                        "changed",
                        "event_level",
                        "play",
                        "role",
                        "task");
        assertThat(json.get("id").asLong()).isEqualTo(981234);
        assertThat(json.get("job").asLong()).isEqualTo(42);
        assertThat(json.get("created").asText()).isEqualTo("2024-10-23T15:30:01.123456+00:00");
        assertThat(json.get("group_name").asText()).isEqualTo("job_events");
        assertThat(json.get("url").asText()).isEqualTo("/api/v2/job_events/981234");
        assertThat(json.get("stdout").asText()).isEqualTo("\u001b[0;32mok: [web1]\u001b[0m");
        assertThat(json.get("counter").asInt()).isEqualTo(7);
        assertThat(json.get("uuid").asText()).isEqualTo("uuid-7");
        assertThat(json.get("parent_uuid").asText()).isEqualTo("parent-7");
        assertThat(json.get("start_line").asInt()).isEqualTo(7);
        assertThat(json.get("end_line").asInt()).isEqualTo(8);
        assertThat(json.get("event").asText()).isEqualTo("runner_on_ok");
        assertThat(json.get("failed").isBoolean()).isTrue();
        assertThat(json.get("failed").asBoolean()).isFalse();
        assertThat(json.get("changed").asBoolean()).isFalse();
        assertThat(json.get("event_level").asInt()).isEqualTo(3);
        assertThat(json.get("play").asText()).isEqualTo("all");
        assertThat(json.get("role").asText()).isEmpty();
        assertThat(json.get("task").asText()).isEqualTo("ping");
    }

    @Test
    void modified_repeats_created_rather_than_the_commit_time() throws Exception {
        StoredEvent stored = TestEvents.stored(1, 42, 1, "");
        JsonNode json = Json.MAPPER.readTree(EventMessages.event(stored));

        assertThat(json.get("modified").asText()).isEqualTo(json.get("created").asText());
        assertThat(stored.modified()).isNotEqualTo(stored.event().created());
    }

    @Test
    void event_data_is_embedded_as_the_stored_json_text_not_as_a_string() throws Exception {
        StoredEvent stored = TestEvents.stored(1, 42, 1, "");
        String text = EventMessages.event(stored);

        assertThat(text).contains("\"event_data\":" + stored.event().eventData() + ",");
        JsonNode data = Json.MAPPER.readTree(text).get("event_data");
        assertThat(data.isObject()).isTrue();
        assertThat(data.at("/res/ping").asText()).isEqualTo("pong");
    }

    @Test
    void omits_fields_awx_does_not_send() throws Exception {
        JsonNode json = Json.MAPPER.readTree(EventMessages.event(TestEvents.stored(1, 42, 1, "")));

        assertThat(json.has("host_name")).isFalse();
        assertThat(json.has("playbook")).isFalse();
        assertThat(json.has("verbosity")).isFalse();
        assertThat(json.has("job_created")).isFalse();
    }

    @Test
    void a_small_event_after_a_huge_one_carries_nothing_over() throws Exception {
        String huge = "x".repeat(1_000_000);
        assertThat(Json.MAPPER
                        .readTree(EventMessages.event(TestEvents.stored(1, 42, 1, huge)))
                        .get("stdout")
                        .asText())
                .hasSize(1_000_000);

        JsonNode small = Json.MAPPER.readTree(EventMessages.event(TestEvents.stored(2, 42, 2, "ok")));
        assertThat(small.get("stdout").asText()).isEqualTo("ok");
        assertThat(small.get("id").asLong()).isEqualTo(2);
    }

    @Test
    void status_changed_is_awx_jobs_message_with_finished_only_for_final_states() throws Exception {
        Instant finished = Instant.parse("2024-10-23T15:31:00.5Z");

        JsonNode done = Json.MAPPER.readTree(EventMessages.statusChanged(42, "successful", finished));
        assertThat(done.get("unified_job_id").asLong()).isEqualTo(42);
        assertThat(done.get("status").asText()).isEqualTo("successful");
        assertThat(done.get("finished").asText()).isEqualTo("2024-10-23T15:31:00.500000Z");
        assertThat(done.get("type").asText()).isEqualTo("job");
        assertThat(done.get("group_name").asText()).isEqualTo("jobs");

        JsonNode running = Json.MAPPER.readTree(EventMessages.statusChanged(42, "running", finished));
        assertThat(running.has("finished")).isFalse();
        assertThat(Json.MAPPER
                        .readTree(EventMessages.statusChanged(42, "failed", null))
                        .has("finished"))
                .isFalse();
    }

    @Test
    void summary_carries_the_final_counter() throws Exception {
        JsonNode json = Json.MAPPER.readTree(EventMessages.summary(42, 57));

        assertThat(json.get("group_name").asText()).isEqualTo("jobs");
        assertThat(json.get("unified_job_id").asLong()).isEqualTo(42);
        assertThat(json.get("final_counter").asInt()).isEqualTo(57);
    }

    @Test
    void job_events_group_is_name_dash_id() {
        assertThat(EventMessages.jobEventsGroup(42)).isEqualTo("job_events-42");
    }
}
