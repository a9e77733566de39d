package io.jobstream.event;

import java.time.Instant;
import java.util.List;

/**
 * What one receiver write made durable: the new (non-duplicate) events, the job changes, and when it committed.
 * {@code committed} is taken after the commit returned, unlike each event's {@code modified} (AWX's column, written
 * in the rows, so fixed before the COPY): the hop times split at it, so that COPY and fsync count as
 * received → committed rather than committed → published.
 */
public record CommittedBatch(List<StoredEvent> events, List<JobChange> jobChanges, Instant committed) {
    public CommittedBatch {
        events = List.copyOf(events);
        jobChanges = List.copyOf(jobChanges);
    }

    /** A batch whose commit time is its latest {@code modified} (tests, and batches built from stored rows). */
    public CommittedBatch(List<StoredEvent> events, List<JobChange> jobChanges) {
        this(
                events,
                jobChanges,
                events.stream()
                        .map(StoredEvent::modified)
                        .max(Instant::compareTo)
                        .orElse(Instant.EPOCH));
    }
}
