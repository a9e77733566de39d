package io.jobstream.broadcast;

import io.jobstream.event.StoredEvent;
import java.util.List;

/**
 * The committed events of a job, read back in counter order: what fills a subscriber's gap, replays a resume and
 * catches up a slow subscriber. Implemented by the store (postgres); an in-memory one in unit tests. Thread-safe; the
 * calls block on I/O, so callers make them off the delivering thread.
 */
public interface EventSource {
    /** Up to {@code limit} events of {@code jobId} with counter {@code >= fromCounter}, by ascending counter. */
    List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit);

    /** The highest stored counter of {@code jobId}, 0 when it has none. */
    int lastCounter(long jobId);
}
