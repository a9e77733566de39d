package io.jobstream.broadcast;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** What only the memory broadcaster offers; what every broadcaster promises is in {@link MemoryBroadcasterContractTest}. */
class MemoryBroadcasterTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);

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
