package io.jobstream.event;

import java.util.List;

/** What one receiver transaction made durable: the new (non-duplicate) events and the job changes. */
public record CommittedBatch(List<StoredEvent> events, List<JobChange> jobChanges) {
    public CommittedBatch {
        events = List.copyOf(events);
        jobChanges = List.copyOf(jobChanges);
    }
}
