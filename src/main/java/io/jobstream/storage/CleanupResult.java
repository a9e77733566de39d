package io.jobstream.storage;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a cleanup deleted (or, for a dry run, would delete). Counts of events come from the jobs' own counts
 * ({@code stored_events}), so a partition emptied whole is not counted row by row; {@code bytes} is the stdout and
 * event data those events held (the disk space PostgreSQL gives back depends on vacuum, see OPERATIONS.md).
 *
 * @param jobsDeleted         whole jobs removed (row and events)
 * @param jobsEventsExpired   jobs whose events went while the row stayed ({@code events_expired: true})
 * @param eventsDeleted       event rows removed
 * @param partitionsTruncated {@code job_event} partitions emptied whole (their jobs' rows stay)
 * @param partitionsDropped   {@code job_event} partitions removed whole
 * @param batches             short DELETE transactions run where a whole partition could not go
 */
public record CleanupResult(
        boolean dryRun,
        Instant eventsCutoff,
        Instant jobsCutoff,
        long jobsDeleted,
        long jobsEventsExpired,
        long eventsDeleted,
        long bytes,
        List<String> partitionsTruncated,
        List<String> partitionsDropped,
        long batches,
        Duration took) {

    public CleanupResult {
        partitionsTruncated = List.copyOf(partitionsTruncated);
        partitionsDropped = List.copyOf(partitionsDropped);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dry_run", dryRun);
        m.put("events_cutoff", eventsCutoff == null ? null : eventsCutoff.toString());
        m.put("jobs_cutoff", jobsCutoff == null ? null : jobsCutoff.toString());
        m.put("jobs_deleted", jobsDeleted);
        m.put("jobs_events_expired", jobsEventsExpired);
        m.put("events_deleted", eventsDeleted);
        m.put("bytes", bytes);
        m.put("partitions_truncated", partitionsTruncated);
        m.put("partitions_dropped", partitionsDropped);
        m.put("batches", batches);
        m.put("seconds", took.toMillis() / 1000.0);
        return m;
    }
}
