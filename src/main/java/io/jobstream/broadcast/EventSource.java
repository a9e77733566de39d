package io.jobstream.broadcast;

import io.jobstream.event.StoredEvent;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The committed events of a job, read back in counter order: what fills a subscriber's gap, replays a resume and
 * catches up a slow subscriber. Implemented by the store (postgres); an in-memory one in unit tests. Thread-safe; the
 * calls block on I/O, so callers make them off the delivering thread.
 */
public interface EventSource {
    /** Up to {@code limit} events of {@code jobId} with counter {@code >= fromCounter}, by ascending counter. */
    List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit);

    /**
     * As {@link #eventsFrom(long, int, int)}, and stops once the events read hold about {@code maxBytes} (their
     * stdout and event_data; at least one event is returned): a page of 500 events of 2 MB each would be a gigabyte.
     * The default trims after reading, for sources whose events are in memory anyway.
     */
    default List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit, long maxBytes) {
        List<StoredEvent> events = eventsFrom(jobId, fromCounter, limit);
        long bytes = 0;
        for (int i = 0; i < events.size(); i++) {
            if (i > 0 && bytes >= maxBytes) return events.subList(0, i);
            bytes += bytesOf(events.get(i));
        }
        return events;
    }

    /** What the byte bound of {@link #eventsFrom(long, int, int, long)} counts of an event: its stdout and event_data. */
    static long bytesOf(StoredEvent e) {
        return e.event().stdout().length() + e.event().eventData().length();
    }

    /** The highest stored counter of {@code jobId}, 0 when it has none. */
    int lastCounter(long jobId);

    /**
     * {@link #lastCounter} of several jobs (a subscribe message may name 100): one query in the store. The default
     * asks one by one, for sources in memory.
     */
    default Map<Long, Integer> lastCounters(Collection<Long> jobIds) {
        Map<Long, Integer> last = new HashMap<>();
        for (Long job : jobIds) last.put(job, lastCounter(job));
        return last;
    }
}
