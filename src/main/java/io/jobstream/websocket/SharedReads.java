package io.jobstream.websocket;

import io.jobstream.broadcast.EventSource;
import io.jobstream.event.StoredEvent;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The store reads of subscribers that catch up, shared between them: when a job's subscribers fall behind together
 * (a young node, a burst), each used to read the same events from PostgreSQL on its own, ten subscribers ten times,
 * and that extra load slowed the node further, so that more subscribers fell behind (docs/BENCHMARKS.md §2e). Here
 * the pages read recently are kept for a moment, as runs of consecutive counters, and a read that a run covers is
 * answered from memory.
 *
 * <p>Why an answer from memory is the store's answer: a run is kept only when its counters are consecutive, and a job
 * has one row per counter (the primary key), so no commit can ever add a row inside a run; a read is answered only
 * when the run holds a whole page from its counter (as many events as asked, or as many as the byte bound lets
 * through), so a short page, which a subscriber takes as "nothing newer is stored", always comes from the store. What
 * could change is a deletion by retention, of a finished job's events, which a run outlives by at most {@link
 * #KEEP_NANOS}.
 *
 * <p>Bounded: runs expire {@link #KEEP_NANOS} after they last grew, and all runs together hold at most {@code
 * maxBytes} (stdout, event_data and {@link #EVENT_OVERHEAD} per event; the oldest runs' first events go first). Thread-safe: the store is read outside the lock.
 */
final class SharedReads implements EventSource {
    /** How long a run is kept after it last grew: subscribers that fell behind together read within this of each other. */
    static final long KEEP_NANOS = 2_000_000_000L;
    /**
     * What an event held costs besides its stdout and event_data: the record, its other strings and the list entry
     * (about 600 bytes for a typical event). Counted so that many small events cannot pass the bound.
     */
    static final long EVENT_OVERHEAD = 600;

    private final EventSource store;
    private final long maxBytes;
    private final LongSupplier nanos;
    private final Counter shared;
    private final Counter stored;
    /** Oldest first. Few at a time (a run per job being caught up), so a scan is cheap. */
    private final Deque<Run> runs = new ArrayDeque<>();

    private long bytes;

    SharedReads(EventSource store, long maxBytes, MeterRegistry registry) {
        this(store, maxBytes, registry, System::nanoTime);
    }

    SharedReads(EventSource store, long maxBytes, MeterRegistry registry, LongSupplier nanos) {
        this.store = store;
        this.maxBytes = maxBytes;
        this.nanos = nanos;
        this.shared = reads(registry, "shared");
        this.stored = reads(registry, "store");
    }

    static Counter reads(MeterRegistry registry, String from) {
        return Counter.builder(Metrics.WS_CATCHUP_READS)
                .tag("from", from)
                .description("Pages of events read for subscribers, by where the page came from")
                .register(registry);
    }

    /** A run of events with consecutive counters, from {@code first} on. */
    private static final class Run {
        final long jobId;
        final List<StoredEvent> events = new ArrayList<>();
        long bytes;
        long grewAt;

        Run(long jobId) {
            this.jobId = jobId;
        }

        int first() {
            return events.get(0).event().counter();
        }

        int last() {
            return events.get(events.size() - 1).event().counter();
        }
    }

    @Override
    public List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit) {
        return eventsFrom(jobId, fromCounter, limit, Long.MAX_VALUE);
    }

    @Override
    public List<StoredEvent> eventsFrom(long jobId, int fromCounter, int limit, long maxBytes) {
        List<StoredEvent> page = fromRuns(jobId, fromCounter, limit, maxBytes);
        if (page != null) {
            shared.increment();
            return page;
        }
        page = maxBytes == Long.MAX_VALUE
                ? store.eventsFrom(jobId, fromCounter, limit)
                : store.eventsFrom(jobId, fromCounter, limit, maxBytes);
        stored.increment();
        keep(jobId, fromCounter, page);
        return page;
    }

    /** A whole page from a run, or null when no run holds one. */
    private synchronized List<StoredEvent> fromRuns(long jobId, int from, int limit, long maxBytes) {
        expire();
        for (Run run : runs) {
            if (run.jobId != jobId || from < run.first() || from > run.last()) continue;
            int start = from - run.first();
            List<StoredEvent> page = new ArrayList<>(Math.min(limit, run.events.size() - start));
            long before = 0;
            for (int i = start; i < run.events.size() && page.size() < limit; i++) {
                if (cut(before, maxBytes)) return page;
                StoredEvent e = run.events.get(i);
                page.add(e);
                before += EventSource.bytesOf(e);
            }
            // the run ended before the page did: the store may hold more, and a short page says it does not
            return page.size() < limit && !cut(before, maxBytes) ? null : page;
        }
        return null;
    }

    /** Keeps a page the store answered, when its counters are consecutive from {@code from}, joined to its run. */
    private synchronized void keep(long jobId, int from, List<StoredEvent> page) {
        if (page.isEmpty() || page.get(0).event().counter() != from) return;
        for (int i = 1; i < page.size(); i++) {
            if (page.get(i).event().counter() != from + i) return; // a hole: the store may fill it later
        }
        Run run = null;
        for (Run r : runs) {
            if (r.jobId == jobId && from >= r.first() && from <= r.last() + 1) {
                run = r;
                break;
            }
        }
        if (run == null) {
            run = new Run(jobId);
        } else {
            runs.remove(run); // to the young end
        }
        int next = run.events.isEmpty() ? from : run.last() + 1;
        for (StoredEvent e : page) {
            if (e.event().counter() != next) continue; // already held
            run.events.add(e);
            long size = held(e);
            run.bytes += size;
            bytes += size;
            next++;
        }
        run.grewAt = nanos.getAsLong();
        runs.addLast(run);
        while (bytes > maxBytes && !runs.isEmpty()) trim(runs.peekFirst(), bytes - maxBytes);
    }

    /**
     * Frees at least {@code excess} bytes from the front of {@code run} (the events its readers have passed), or drops
     * it whole.
     */
    private void trim(Run run, long excess) {
        int n = 0;
        long freed = 0;
        while (n < run.events.size() && freed < excess) freed += held(run.events.get(n++));
        if (n == run.events.size()) {
            drop(run);
            return;
        }
        run.events.subList(0, n).clear();
        run.bytes -= freed;
        bytes -= freed;
    }

    private void expire() {
        long now = nanos.getAsLong();
        for (Iterator<Run> it = runs.iterator(); it.hasNext(); ) {
            Run r = it.next();
            if (now - r.grewAt > KEEP_NANOS) {
                it.remove();
                bytes -= r.bytes;
            }
        }
    }

    private void drop(Run run) {
        runs.remove(run);
        bytes -= run.bytes;
    }

    /** The store's cut: a row goes in while the rows before it hold less than {@code maxBytes}, or nothing. */
    private static boolean cut(long before, long maxBytes) {
        return before >= maxBytes && before > 0;
    }

    /** What holding an event counts against this bound. */
    private static long held(StoredEvent e) {
        return EventSource.bytesOf(e) + EVENT_OVERHEAD;
    }

    /** Bytes held, for tests. */
    synchronized long bytesHeld() {
        return bytes;
    }

    @Override
    public int lastCounter(long jobId) {
        return store.lastCounter(jobId);
    }

    @Override
    public Map<Long, Integer> lastCounters(Collection<Long> jobIds) {
        return store.lastCounters(jobIds);
    }
}
