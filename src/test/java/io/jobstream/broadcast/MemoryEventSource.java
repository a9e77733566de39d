package io.jobstream.broadcast;

import io.jobstream.event.StoredEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-memory {@link EventSource} for unit tests: events are "stored" by {@link #add}; counts the reads. */
public final class MemoryEventSource implements EventSource {
    private final Map<Long, TreeMap<Integer, StoredEvent>> jobs = new HashMap<>();
    public final AtomicInteger reads = new AtomicInteger();
    private volatile boolean failing;

    public synchronized void add(StoredEvent stored) {
        jobs.computeIfAbsent(stored.event().jobId(), j -> new TreeMap<>())
                .putIfAbsent(stored.event().counter(), stored);
    }

    public void failing(boolean on) {
        failing = on;
    }

    @Override
    public synchronized List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit) {
        reads.incrementAndGet();
        if (failing) throw new IllegalStateException("store down");
        TreeMap<Integer, StoredEvent> events = jobs.getOrDefault(jobId, new TreeMap<>());
        List<StoredEvent> page = new ArrayList<>();
        for (StoredEvent e : events.tailMap(fromCounter, true).values()) {
            if (page.size() == limit) break;
            page.add(e);
        }
        return page;
    }

    @Override
    public synchronized int lastCounter(long jobId) {
        TreeMap<Integer, StoredEvent> events = jobs.get(jobId);
        return events == null || events.isEmpty() ? 0 : events.lastKey();
    }
}
