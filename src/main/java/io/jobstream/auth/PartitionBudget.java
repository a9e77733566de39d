package io.jobstream.auth;

import io.jobstream.limit.Rate;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How many new {@code job_event} partitions (one table per block of 1,000 job ids) this node lets trusted writers
 * start per minute. Why: only trusted writers choose job ids, but a buggy emitter spreading its ids over 1..2^31 would
 * otherwise create a table per id; sequential ids (launches, AWX-style numbering) need one new table per 1,000 jobs
 * and never come near the limit. Jobs refused for it are named in the ingest answer and counted in
 * {@code job_partitions_refused_total}. Thread-safe.
 */
public final class PartitionBudget {
    private final Rate budget; // null: no limit
    private final int perMinute;

    /** @param perMinute new partitions a minute, also the most at once; 0 = no limit */
    public PartitionBudget(int perMinute, MeterRegistry registry, LongSupplier nanoTime) {
        this.perMinute = perMinute;
        Counter refused = Counter.builder(Metrics.PARTITIONS_REFUSED)
                .description("new job ids refused because they needed a new event partition over"
                        + " ingest.max-new-partitions")
                .register(registry);
        this.budget = perMinute <= 0
                ? null
                : Rate.bucket(perMinute, Duration.ofMinutes(1), perMinute, 1, nanoTime, refused::increment);
    }

    /** Takes one new partition from the budget; false (and counted) when the minute's budget is spent. */
    boolean admit() {
        return budget == null || budget.admit("node", 1);
    }

    int perMinute() {
        return perMinute;
    }
}
