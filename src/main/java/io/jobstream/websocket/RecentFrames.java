package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.broadcast.EventTap;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The live frames of each job watched on this node, from the last few seconds, for its subscribers that fell behind.
 * A subscriber whose outbox overflowed used to read what it missed back from PostgreSQL and serialise each event
 * again for itself; at 20,000 events/s × 10 subscribers that catch-up cost more than the live path it had fallen out
 * of, so a young node whose subscribers overflowed once kept them behind for the rest of the run (docs/BENCHMARKS.md
 * §2e). The frames were built once for all subscribers and sent a moment ago: kept here, a catch-up within the window
 * costs what live delivery does, and no database read.
 *
 * <p>Why an answer from here is the store's: every frame the hub delivers is of an event already committed (the
 * receiver publishes only committed batches), and a job keeps a run of consecutive counters only (a frame that does
 * not continue the run starts a new one), so the frames for counters {@code from..from+n} are exactly the stored
 * events with those counters. A read that finds nothing here goes to the store, so a short answer never means
 * "nothing newer is stored".
 *
 * <p>Bounded: frames leave {@link #KEEP_NANOS} after they were delivered, and all jobs together hold at most {@code
 * maxBytes} (a frame's text, its UTF-8 bytes and {@link Outbox.Out#ENTRY_BYTES}, as the outboxes count it), the
 * delivering job's oldest frames going first; a job none of whose frames are left is forgotten. The frames are the
 * same objects the subscribers queue, so what is kept here is what would otherwise be garbage a few seconds earlier.
 * Thread-safe (one lock: a delivery appends a batch, a read copies at most a page of references).
 */
final class RecentFrames implements EventTap {
    /** How long a frame is kept after its delivery: longer than a full outbox takes to drain at a high rate. */
    static final long KEEP_NANOS = 5_000_000_000L;

    private final long maxBytes;
    private final LongSupplier nanos;
    private final Counter reads;
    private final Map<Long, Ring> rings = new HashMap<>();
    private long bytes;

    RecentFrames(long maxBytes, MeterRegistry registry) {
        this(maxBytes, registry, System::nanoTime);
    }

    /** Keeps nothing: every catch-up reads the store (tests of that path). */
    static RecentFrames none() {
        return new RecentFrames(0, new SimpleMeterRegistry());
    }

    RecentFrames(long maxBytes, MeterRegistry registry, LongSupplier nanos) {
        this.maxBytes = maxBytes;
        this.nanos = nanos;
        this.reads = SharedReads.reads(registry, "recent");
    }

    /** One job's frames with consecutive counters, oldest first, in a circular array. */
    private static final class Ring {
        EventFrame[] frames = new EventFrame[64];
        long[] at = new long[64];
        int head;
        int size;
        long bytes;

        EventFrame get(int i) {
            return frames[(head + i) & (frames.length - 1)];
        }

        int first() {
            return get(0).counter();
        }

        int last() {
            return get(size - 1).counter();
        }

        void add(EventFrame frame, long now) {
            if (size == frames.length) grow();
            int slot = (head + size) & (frames.length - 1);
            frames[slot] = frame;
            at[slot] = now;
            size++;
        }

        /** Removes the oldest frame; returns what it counted. */
        long removeFirst() {
            EventFrame gone = frames[head];
            frames[head] = null;
            head = (head + 1) & (frames.length - 1);
            size--;
            return cost(gone);
        }

        long oldestAt() {
            return at[head];
        }

        private void grow() {
            EventFrame[] f = new EventFrame[frames.length * 2];
            long[] a = new long[frames.length * 2];
            for (int i = 0; i < size; i++) {
                int slot = (head + i) & (frames.length - 1);
                f[i] = frames[slot];
                a[i] = at[slot];
            }
            frames = f;
            at = a;
            head = 0;
        }
    }

    /** What keeping a frame counts: as an outbox counts it. */
    static long cost(EventFrame frame) {
        return (long) frame.text().length() + frame.utf8().length + Outbox.Out.ENTRY_BYTES;
    }

    @Override
    public synchronized void delivered(List<EventFrame> frames) {
        if (frames.isEmpty()) return;
        long now = nanos.getAsLong();
        long jobId = frames.get(0).jobId();
        Ring ring = rings.computeIfAbsent(jobId, id -> new Ring());
        for (EventFrame frame : frames) {
            if (!frame.live() || frame.jobId() != jobId) continue;
            int counter = frame.counter();
            if (ring.size > 0 && counter >= ring.first() && counter <= ring.last()) continue; // held already
            if (ring.size > 0 && counter != ring.last() + 1) clear(ring); // not consecutive: a new run
            ring.add(frame, now);
            long cost = cost(frame);
            ring.bytes += cost;
            bytes += cost;
        }
        expire(now);
        // over the bound: the job that grows gives up its oldest first, then the others
        while (bytes > maxBytes && ring.size > 0) drop(ring);
        if (bytes > maxBytes) {
            for (Ring other : rings.values()) {
                while (bytes > maxBytes && other != ring && other.size > 0) drop(other);
            }
        }
        if (ring.size == 0) rings.remove(jobId);
    }

    /**
     * Frames of {@code jobId} from counter {@code from} on, consecutive, at most {@code limit} and about {@code
     * maxBytes} (at least one): empty when {@code from} is not kept.
     */
    synchronized List<EventFrame> from(long jobId, int from, int limit, long maxBytes) {
        Ring ring = rings.get(jobId);
        if (ring == null) return List.of();
        expire(nanos.getAsLong());
        if (ring.size == 0 || from < ring.first() || from > ring.last()) return List.of();
        int start = from - ring.first();
        int n = Math.min(limit, ring.size - start);
        List<EventFrame> page = new ArrayList<>(n);
        long taken = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0 && taken >= maxBytes) break;
            EventFrame frame = ring.get(start + i);
            page.add(frame);
            taken += cost(frame);
        }
        reads.increment();
        return page;
    }

    /** Frames older than {@link #KEEP_NANOS} leave; jobs with none left are forgotten. */
    private void expire(long now) {
        for (Iterator<Ring> it = rings.values().iterator(); it.hasNext(); ) {
            Ring ring = it.next();
            while (ring.size > 0 && now - ring.oldestAt() > KEEP_NANOS) drop(ring);
            if (ring.size == 0) it.remove();
        }
    }

    private void drop(Ring ring) {
        long cost = ring.removeFirst();
        ring.bytes -= cost;
        bytes -= cost;
    }

    private void clear(Ring ring) {
        while (ring.size > 0) drop(ring);
    }

    /** Bytes held, for tests. */
    synchronized long bytesHeld() {
        return bytes;
    }

    /** Jobs with frames held, for tests. */
    synchronized int jobs() {
        return rings.size();
    }
}
