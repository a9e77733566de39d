package io.jobstream.broadcast;

import io.jobstream.event.JobEvent;
import io.jobstream.event.StoredEvent;
import java.time.Instant;

/** Stored events for tests, in the shape the receiver hands to the broadcaster. */
public final class TestEvents {
    public static final Instant CREATED = Instant.parse("2024-10-23T15:30:01.123456Z");

    private TestEvents() {}

    public static StoredEvent stored(long id, long jobId, int counter, String stdout) {
        JobEvent event = new JobEvent(
                jobId,
                counter,
                "uuid-" + counter,
                "parent-" + counter,
                "runner_on_ok",
                "{\"host\":\"web1\",\"res\":{\"ping\":\"pong\"}}",
                stdout,
                counter,
                counter + 1,
                0,
                "web1",
                "site.yml",
                "all",
                "",
                "ping",
                false,
                false,
                CREATED,
                false,
                CREATED.plusMillis(5));
        return new StoredEvent(id, event, CREATED.plusSeconds(1));
    }
}
