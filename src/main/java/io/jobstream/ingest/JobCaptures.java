package io.jobstream.ingest;

import io.jobstream.event.CaptureLevel;
import java.util.Map;

/**
 * Where ingest records, per job, the capture level its events were taken at and what the level dropped (the job's
 * {@code capture} and {@code capture_dropped}). Called after the events are committed, off the receiver thread.
 */
@FunctionalInterface
public interface JobCaptures {
    void record(CaptureLevel level, Map<Long, Dropped> perJob);

    /** What a level dropped of one job's committed events: how many events lost text, and its UTF-8 bytes. */
    record Dropped(long events, long bytes) {}
}
