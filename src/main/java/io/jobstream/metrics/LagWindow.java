package io.jobstream.metrics;

/**
 * The numbers of AWX's debug.js gauge, in milliseconds rather than its whole seconds: average, standard deviation
 * and maximum lag over the last {@code capacity} events (1024 in debug.js), and, for each of the three, the
 * snapshot in which it was highest so far ("MAX AVERAGE", "MAX STDEV", "MAX MAX", each a whole triple, as debug.js
 * keeps them). Not thread-safe: one reader thread adds and reads.
 */
public final class LagWindow {
    /** One line of the gauge. */
    public record Stats(double avg, double stdev, long max) {
        static final Stats ZERO = new Stats(0, 0, 0);
    }

    private final long[] ring;
    private int size;
    private int next;
    private long total;
    private Stats maxAverage = Stats.ZERO;
    private Stats maxStdev = Stats.ZERO;
    private Stats maxMax = Stats.ZERO;

    public LagWindow(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1");
        ring = new long[capacity];
    }

    public void add(long lagMillis) {
        if (size == ring.length) total -= ring[next];
        else size++;
        ring[next] = lagMillis;
        total += lagMillis;
        next = (next + 1) % ring.length;
        Stats now = current();
        if (now.avg() > maxAverage.avg()) maxAverage = now;
        if (now.stdev() > maxStdev.stdev()) maxStdev = now;
        if (now.max() > maxMax.max()) maxMax = now;
    }

    /** Over the events in the window; all zero before the first. O(capacity): read it once per display tick. */
    public Stats current() {
        if (size == 0) return Stats.ZERO;
        double avg = (double) total / size;
        double squares = 0;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < size; i++) {
            double d = ring[i] - avg;
            squares += d * d;
            max = Math.max(max, ring[i]);
        }
        return new Stats(avg, Math.sqrt(squares / size), max);
    }

    public Stats maxAverage() {
        return maxAverage;
    }

    public Stats maxStdev() {
        return maxStdev;
    }

    public Stats maxMax() {
        return maxMax;
    }

    public int size() {
        return size;
    }
}
