package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.broadcast.EventTap;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The live frames of each job one of whose subscribers fell behind, from the last few seconds, for those subscribers.
 * A subscriber whose outbox overflowed used to read what it missed back from PostgreSQL and serialise each event
 * again for itself; at 20,000 events/s × 10 subscribers that catch-up cost more than the live path it had fallen out
 * of, so a young node whose subscribers overflowed once kept them behind for the rest of the run (docs/BENCHMARKS.md
 * §2e). The frames were built once for all subscribers and sent a moment ago: kept here, a catch-up within the window
 * costs what live delivery does, and no database read.
 *
 * <p>Why an answer from here is the store's: every frame the hub delivers is of an event already committed (the
 * receiver publishes only committed batches), a job has one event per counter, and a read answers only the frames
 * kept for consecutive counters from its own, stopping at the first one not kept; so the frames for counters {@code
 * from..from+n} are exactly the stored events with those counters. Frames may come out of counter order (an
 * emitter's posts in flight together are committed in any order): each is kept by its counter, in a window of at
 * most {@link #MAX_SPAN} counters per job. A read that finds nothing here goes to the store, so a short answer never
 * means "nothing newer is stored".
 *
 * <p>Only for jobs that need it: a job's frames are kept from the moment one of its subscribers falls behind ({@link
 * #want}, when it starts catching up) until {@link #KEEP_NANOS} after the last time one did or read here. A subscriber
 * that overflows at counter N already holds everything before N, and what it needs from here was delivered after
 * that moment. Keeping every watched job's last seconds instead made each frame live 5 s instead of milliseconds, and
 * the garbage collector copy it until then: 20% more server CPU per message at 10 subscribers × 20,000 events/s with
 * nobody behind (docs/BENCHMARKS.md §2e).
 *
 * <p>Bounded: a job's lowest counters leave once delivered {@link #KEEP_NANOS} ago, and all jobs together hold at
 * most {@code maxBytes} (a frame's text, its UTF-8 bytes and {@link Outbox.Out#ENTRY_BYTES}, as the outboxes count
 * it), the lowest counters of a job holding more than an equal share going first (so that no job's output, however
 * big or fast, keeps the others' out); a job none of whose frames are left is forgotten. The frames are the
 * same objects the subscribers queue, so what is kept here is what would otherwise be garbage a few seconds earlier.
 * Thread-safe (one lock: a delivery appends a batch, a read copies at most a page of references).
 */
final class RecentFrames implements EventTap {
    /** How long a frame is kept after its delivery: longer than a full outbox takes to drain at a high rate. */
    static final long KEEP_NANOS = 5_000_000_000L;
    /**
     * How often the window's old end is looked at: each delivery would otherwise walk every watched job. A frame
     * kept a little longer is still a correct answer; only the memory bound depends on this.
     */
    static final long EXPIRE_EVERY_NANOS = 100_000_000L;
    /**
     * The widest window of counters per job (slots of 8 + 8 bytes): 5 s at 50,000 events/s. A frame further above
     * moves the window up; one further below is not kept.
     */
    static final int MAX_SPAN = 1 << 18;

    private final long maxBytes;
    private final LongSupplier nanos;
    private final Counter reads;
    private final Map<Long, Ring> rings = new HashMap<>();
    private final Map<Long, Long> wanted = new HashMap<>(); // job id → until when (nanos) its frames are kept
    private long bytes;
    /** When {@link #expire} last looked at every job: at most every {@link #EXPIRE_EVERY_NANOS}. */
    private long expiredAt;

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
        Gauge.builder(Metrics.WS_RECENT_FRAMES_BYTES, this, RecentFrames::bytesHeld)
                .description("bytes of live frames kept for subscribers that fall behind (at most 64 MiB or 1/16 of"
                        + " the heap)")
                .baseUnit("bytes")
                .register(registry);
    }

    /**
     * One job's frames by counter, in a window of counters {@code low..high} on a circular array (slot = counter mod
     * its length): frames may come out of counter order (an emitter's posts in flight together are committed in any
     * order), and each lands in its own slot; a counter not delivered yet is an empty slot, where a read stops.
     */
    private static final class Ring {
        final long jobId;
        EventFrame[] frames = new EventFrame[64];
        long[] at = new long[64];
        int low;
        int high;
        int size;
        long bytes;

        Ring(long jobId) {
            this.jobId = jobId;
        }

        /** The frame with {@code counter}, or null. */
        EventFrame get(int counter) {
            if (size == 0 || counter < low || counter > high) return null;
            EventFrame frame = frames[counter & (frames.length - 1)];
            return frame != null && frame.counter() == counter ? frame : null;
        }

        /** The oldest counter's frame delivery time (the window moves from its low end). */
        long lowAt() {
            return at[low & (frames.length - 1)];
        }

        /** Grows the array so that {@code low..counter} fits, if it may; false when the span is too wide. */
        boolean fits(int from, int to) {
            long span = (long) to - from + 1;
            if (span <= frames.length) return true;
            if (span > MAX_SPAN) return false;
            int length = frames.length;
            while (length < span) length *= 2;
            EventFrame[] f = new EventFrame[length];
            long[] a = new long[length];
            for (int c = low; c <= high; c++) {
                EventFrame frame = frames[c & (frames.length - 1)];
                if (frame != null && frame.counter() == c) {
                    f[c & (length - 1)] = frame;
                    a[c & (length - 1)] = at[c & (frames.length - 1)];
                }
            }
            frames = f;
            at = a;
            return true;
        }

        void put(EventFrame frame, long now) {
            int c = frame.counter();
            if (size == 0) {
                low = c;
                high = c;
            } else {
                low = Math.min(low, c);
                high = Math.max(high, c);
            }
            frames[c & (frames.length - 1)] = frame;
            at[c & (frames.length - 1)] = now;
            size++;
        }

        /** Removes the frame at {@link #low} (if any) and moves low to the next kept counter; returns its cost. */
        long removeLow() {
            int slot = low & (frames.length - 1);
            EventFrame gone = frames[slot];
            long cost = 0;
            if (gone != null && gone.counter() == low) {
                frames[slot] = null;
                size--;
                cost = cost(gone);
            }
            if (size == 0) return cost;
            do {
                low++;
            } while (get(low) == null); // size > 0: a kept frame lies at or below high
            return cost;
        }
    }

    /** What keeping a frame counts: as an outbox counts it. */
    static long cost(EventFrame frame) {
        return (long) frame.text().length() + frame.utf8().length + Outbox.Out.ENTRY_BYTES;
    }

    /**
     * A subscriber of {@code jobId} fell behind: its frames are kept from now on, until {@link #KEEP_NANOS} after the
     * last call (or read).
     */
    synchronized void want(long jobId) {
        if (maxBytes > 0) wanted.put(jobId, nanos.getAsLong() + KEEP_NANOS);
    }

    @Override
    public synchronized void delivered(List<EventFrame> frames) {
        if (frames.isEmpty()) return;
        long now = nanos.getAsLong();
        long jobId = frames.get(0).jobId();
        Long until = wanted.get(jobId);
        if (until == null || now - until > 0) { // nobody of this job is behind
            expire(now);
            return;
        }
        Ring ring = rings.computeIfAbsent(jobId, Ring::new);
        for (EventFrame frame : frames) {
            if (!frame.live() || frame.jobId() != jobId) continue;
            int counter = frame.counter();
            if (ring.get(counter) != null) continue; // held already
            if (ring.size > 0 && !ring.fits(Math.min(ring.low, counter), Math.max(ring.high, counter))) {
                if (counter < ring.low) continue; // far below the window: too old to be asked for
                while (ring.size > 0 && !ring.fits(ring.low, counter)) drop(ring); // far above: the window moves
            }
            ring.put(frame, now);
            long cost = cost(frame);
            ring.bytes += cost;
            bytes += cost;
        }
        expire(now);
        // over the bound: a job holding more than an equal share of it gives up its oldest frames, the delivering job
        // first, else the one holding the most; so one job's big or fast output (a hostile user's, say) cannot keep
        // every other job's catch-ups on the store. A scan of the jobs is followed by as many drops as it takes.
        long share = maxBytes / Math.max(1, rings.size());
        while (bytes > maxBytes) {
            Ring largest = ring.bytes > share ? ring : null;
            if (largest == null) {
                for (Ring other : rings.values()) if (largest == null || other.bytes > largest.bytes) largest = other;
            }
            if (largest == null || largest.size == 0) break;
            do {
                drop(largest);
            } while (bytes > maxBytes && largest.size > 0 && largest.bytes > share);
            if (largest.size == 0) rings.remove(largest.jobId);
        }
        if (ring.size == 0) rings.remove(jobId); // nothing of it kept (all below the window, or dropped)
    }

    /**
     * Frames of {@code jobId} from counter {@code from} on, consecutive, at most {@code limit} and about {@code
     * maxBytes} (at least one): empty when {@code from} is not kept.
     */
    synchronized List<EventFrame> from(long jobId, int from, int limit, long maxBytes) {
        long now = nanos.getAsLong();
        wanted.computeIfPresent(jobId, (job, until) -> Math.max(until, now + KEEP_NANOS)); // still behind
        Ring ring = rings.get(jobId);
        if (ring == null) return List.of();
        expire(now);
        List<EventFrame> page = new ArrayList<>();
        long taken = 0;
        for (int c = from; page.size() < limit && (page.isEmpty() || taken < maxBytes); c++) {
            EventFrame frame = ring.get(c);
            if (frame == null) break; // not delivered yet, or gone: the store answers from here
            page.add(frame);
            taken += cost(frame);
        }
        if (!page.isEmpty()) reads.increment();
        return page;
    }

    /** Frames older than {@link #KEEP_NANOS} leave; jobs with none left are forgotten. */
    private void expire(long now) {
        if (now - expiredAt < EXPIRE_EVERY_NANOS && expiredAt != 0) return;
        expiredAt = now;
        for (Iterator<Ring> it = rings.values().iterator(); it.hasNext(); ) {
            Ring ring = it.next();
            while (ring.size > 0 && now - ring.lowAt() > KEEP_NANOS) drop(ring);
            if (ring.size == 0) it.remove();
        }
        wanted.values().removeIf(until -> now - until > 0);
    }

    private void drop(Ring ring) {
        long cost = ring.removeLow();
        ring.bytes -= cost;
        bytes -= cost;
    }

    /** Bytes held, for tests. */
    synchronized long bytesHeld() {
        return bytes;
    }

    /** Jobs whose frames are kept (a subscriber behind in the last {@link #KEEP_NANOS}), for tests. */
    synchronized int jobsWanted() {
        return wanted.size();
    }

    /** Jobs with frames held, for tests. */
    synchronized int jobs() {
        return rings.size();
    }
}
