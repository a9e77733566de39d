package io.jobstream.diagnosis;

import java.util.List;
import java.util.Map;

/**
 * What the node measured over one window, as plain numbers: everything {@link Rules} reasons from. Built by
 * {@link ReadingsSampler} from meter snapshots, or by a test by hand. Times are milliseconds, fractions 0..1.
 *
 * @param windowSeconds the window asked for
 * @param coveredSeconds how much of it the samples cover (less just after the node started)
 * @param samples samples taken in the window
 * @param clusterMode whether the node relays through Redis (so commit → publish includes the relay)
 * @param hops per hop name ({@code io.jobstream.metrics.Metrics#HOPS}), what the hop histogram counted in the window
 * @param connections open websocket connections at the end of the window
 */
public record Readings(
        long windowSeconds,
        double coveredSeconds,
        int samples,
        boolean clusterMode,
        Map<String, Hop> hops,
        Queue queue,
        Batches batches,
        Probes database,
        Relay relay,
        Ingest ingest,
        int connections,
        List<Subscriber> subscribers) {

    /** One hop's histogram over the window; percentiles are bucket bounds ("at most"), infinite past 60 s. */
    public record Hop(long events, double meanMillis, double p50Millis, double p99Millis) {
        public static final Hop NONE = new Hop(0, 0, 0, 0);
    }

    /**
     * @param highFraction share of the window's samples in which the depth was at least {@link Rules#QUEUE_HIGH} of
     *                     the capacity
     */
    public record Queue(long capacity, long depthNow, long depthMax, double highFraction) {}

    /**
     * The receiver's transactions that ended in the window.
     *
     * @param slow transactions that took longer than {@link Rules#SLOW_BATCH_MILLIS}
     * @param busyFraction time spent in transactions over the window's length (1 = never idle)
     * @param failures failed store attempts (each retried)
     */
    public record Batches(
            long count,
            double meanMillis,
            double p99Millis,
            long slow,
            double meanSize,
            double busyFraction,
            long stored,
            long failures) {}

    /**
     * The database probe ({@code Database.check}, off the sampling thread) in the window.
     *
     * @param slow probes that took, or were still running after, {@link Rules#SLOW_PROBE_MILLIS}
     * @param worstMillis the longest of them
     */
    public record Probes(int probes, int failed, int slow, long worstMillis, String lastFailure) {}

    /** The cross-node relay (cluster mode): batches published and received, failures, in the window. */
    public record Relay(long published, long received, long failures) {}

    /** Ingest answers in the window: all of them, 503 (queue full) and events refused for the emitter's rate. */
    public record Ingest(long requests, long unavailable, long rateLimited) {}

    /**
     * One websocket connection as the samples saw it (the most backed-up ones of each sample).
     *
     * @param behindFraction share of the window's samples in which it was behind ({@link Rules#SUBSCRIBER_BEHIND}
     *                       messages queued, or catching up from the store)
     * @param behindSeconds how long it has been behind without a break, up to the window's end
     */
    public record Subscriber(
            long user,
            String username,
            String remote,
            List<Long> jobs,
            long queuedNow,
            long queuedMax,
            boolean catchingUp,
            double behindFraction,
            double behindSeconds) {}

    public Hop hop(String name) {
        return hops.getOrDefault(name, Hop.NONE);
    }
}
