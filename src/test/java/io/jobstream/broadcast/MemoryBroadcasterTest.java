package io.jobstream.broadcast;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.Json;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryBroadcasterTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);

    @Test
    void events_go_to_their_jobs_group_then_status_then_summary() throws Exception {
        HubTest.Member job42 = new HubTest.Member();
        HubTest.Member job43 = new HubTest.Member();
        HubTest.Member jobs = new HubTest.Member();
        hub.join("job_events-42", job42);
        hub.join("job_events-43", job43);
        hub.join("jobs-status_changed", jobs);
        hub.join("jobs-summary", jobs);

        broadcaster.publish(new CommittedBatch(
                List.of(TestEvents.stored(1, 42, 1, "a"), TestEvents.stored(2, 43, 1, "b"),
                        TestEvents.stored(3, 42, 2, "c")),
                List.of(new JobChange(42, "successful", 2, true))));

        assertThat(job42.frames).extracting(f -> read(f).get("id").asLong()).containsExactly(1L, 3L);
        assertThat(job43.frames).extracting(f -> read(f).get("id").asLong()).containsExactly(2L);
        assertThat(jobs.frames).hasSize(2);
        assertThat(read(jobs.frames.get(0)).get("status").asText()).isEqualTo("successful");
        assertThat(read(jobs.frames.get(1)).get("final_counter").asInt()).isEqualTo(2);
    }

    @Test
    void a_change_without_status_or_final_counter_sends_nothing() {
        HubTest.Member jobs = new HubTest.Member();
        hub.join("jobs-status_changed", jobs);
        hub.join("jobs-summary", jobs);

        broadcaster.publish(new CommittedBatch(List.of(), List.of(new JobChange(42, null, null, true))));

        assertThat(jobs.frames).isEmpty();
    }

    @Test
    void status_changes_outside_batches_reach_status_subscribers() {
        HubTest.Member jobs = new HubTest.Member();
        hub.join("jobs-status_changed", jobs);

        broadcaster.publishStatus(7, "running");

        assertThat(read(jobs.frames.get(0)).get("unified_job_id").asLong()).isEqualTo(7);
    }

    private static JsonNode read(String frame) {
        try {
            return Json.MAPPER.readTree(frame);
        } catch (Exception e) {
            throw new AssertionError(frame, e);
        }
    }
}
