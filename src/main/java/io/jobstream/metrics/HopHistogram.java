package io.jobstream.metrics;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * One hop's histogram of event lags (buckets 1 ms to 60 s, as {@link Metrics}' lag timers), cheap to record into from
 * many threads at once.
 *
 * <p>Design. The last two hops are recorded for every message written to every subscriber, millions a second at
 * fan-out; a Micrometer Timer's record (atomic bucket and count increments shared by every thread, a rotating max, two
 * clock reads) took 141 ns on one thread and 275 ns each with two sender threads ({@code HopTimerBenchmark}), 10–25%
 * of a written message's CPU. Here every thread that records owns a cell of its own: it alone writes it, with plain
 * increments published by opaque stores (no lock, no compare-and-set, no cache line shared with another writer), and
 * a reader adds the cells up. A cell of a thread that has ended is folded into {@code retired} by the next reader or
 * the next new cell, so threads that come and go (pools that shrink) do not grow the list: the end of a thread
 * happens-before {@link Thread#isAlive()} returns false, so its last counts are seen whole.
 *
 * <p>A snapshot is not atomic across buckets: a record in progress may be in its bucket but not yet in the sum. Counts
 * are derived from the buckets, so count and buckets always agree (Prometheus requires it).
 */
public final class HopHistogram {
    /** Upper bounds, inclusive, in microseconds (the lag timers' buckets); a last bucket (+Inf) takes the rest. */
    static final long[] BOUNDS_MICROS = Arrays.stream(Metrics.LAG_BUCKETS)
            .mapToLong(d -> d.toNanos() / 1000)
            .toArray();

    private static final int INF = BOUNDS_MICROS.length;
    private static final int SUM = INF + 1;
    private static final int SLOTS = SUM + 1;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int MIN_PRUNE = 64;

    private final ThreadLocal<long[]> mine = ThreadLocal.withInitial(this::newCell);
    private final List<Cell> cells = new ArrayList<>(); // guarded by this
    private final long[] retired = new long[SLOTS]; // guarded by this: the counts of cells whose thread ended
    private int pruneAt = MIN_PRUNE; // guarded by this

    private record Cell(Thread owner, long[] counts) {}

    /** Counts one event that spent {@code micros} on this hop; a negative span (clock skew) counts as 0. */
    public void record(long micros) {
        long[] c = mine.get();
        long v = Math.max(0, micros);
        int i = 0;
        while (i < INF && v > BOUNDS_MICROS[i]) i++;
        LONGS.setOpaque(c, i, c[i] + 1);
        LONGS.setOpaque(c, SUM, c[SUM] + v);
    }

    /** The counts since the node started. */
    public synchronized Snapshot snapshot() {
        foldEnded();
        long[] total = retired.clone();
        for (Cell cell : cells) {
            for (int s = 0; s < SLOTS; s++) total[s] += (long) LONGS.getOpaque(cell.counts(), s);
        }
        long[] buckets = new long[INF + 1];
        System.arraycopy(total, 0, buckets, 0, INF + 1);
        return new Snapshot(buckets, total[SUM]);
    }

    /** How many threads' cells are kept (not yet folded); for tests. */
    synchronized int cellsForTest() {
        return cells.size();
    }

    private synchronized long[] newCell() {
        if (cells.size() >= pruneAt) {
            foldEnded();
            pruneAt = Math.max(MIN_PRUNE, 2 * cells.size()); // amortised: a walk per doubling, not per new thread
        }
        long[] counts = new long[SLOTS];
        cells.add(new Cell(Thread.currentThread(), counts));
        return counts;
    }

    /** Moves the counts of cells whose thread has ended into {@link #retired}. */
    private void foldEnded() {
        for (Iterator<Cell> it = cells.iterator(); it.hasNext(); ) {
            Cell cell = it.next();
            if (cell.owner().isAlive()) continue;
            for (int s = 0; s < SLOTS; s++) retired[s] += cell.counts()[s];
            it.remove();
        }
    }

    /**
     * A hop's counts at one moment: per bucket (not cumulative; the last one is over 60 s) and the sum of all spans.
     */
    public record Snapshot(long[] buckets, long sumMicros) {
        public long count() {
            long n = 0;
            for (long b : buckets) n += b;
            return n;
        }

        public double totalMillis() {
            return sumMicros / 1000.0;
        }

        /** The buckets' upper bounds in milliseconds, without +Inf. */
        public static double[] boundsMillis() {
            double[] out = new double[BOUNDS_MICROS.length];
            for (int i = 0; i < out.length; i++) out[i] = BOUNDS_MICROS[i] / 1000.0;
            return out;
        }

        /** Events at or under each of {@link #boundsMillis()}, as a Prometheus {@code le} bucket counts them. */
        public double[] cumulative() {
            double[] out = new double[BOUNDS_MICROS.length];
            long n = 0;
            for (int i = 0; i < out.length; i++) out[i] = n += buckets[i];
            return out;
        }
    }
}
