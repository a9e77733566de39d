package io.jobstream.api;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's run models (issue 19): the cache the analysis routes read ({@link RunCache}) and the build of a job's
 * model in the background as soon as its events are complete, so that the first viewer of a finished job does not
 * wait for it (about a second for 1,000 hosts × 200 tasks; a cached model answers in a tenth of that).
 *
 * <p>Design note. The receiver calls {@link #committed} with each committed batch on its own thread; that only
 * offers the ids of the jobs the batch completed to a queue of {@value #QUEUE} and never blocks or reads: a full
 * queue drops the job (outcome {@code busy}), and its first viewer builds the model as before. One thread,
 * {@code jobstream-run-models}, takes the jobs one at a time, so builds never pile up whatever finishes at once: at
 * most one build in progress (a run of at most {@value #MAX_EVENTS} stored events; a larger job is left to its
 * first request, outcome {@code large}) and {@value #QUEUE} ids waiting. A built model is kept only if it fits in
 * the cache's bound without evicting a model somebody asked for ({@link RunCache#prebuild}), so the cache's memory
 * bound ({@link RunCache#MAX_SIZE} tasks and host results, ~90 MB) holds as before; the transient cost is one model
 * being built. Only the node whose receiver committed the completing batch builds (a cluster's other nodes see the
 * batch through the broadcaster, not here). A failed build is logged and counted, and the thread goes on. Each
 * model built here is also stored ({@link StoredRunModels}, table {@code job_run_model}), also when the cache has
 * no room for it: so the first request after a restart, on the cluster's other node or after an eviction reads
 * one row instead of building the model from ~400,000.
 */
public final class RunModels implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunModels.class);
    /** Jobs waiting for a background build; more completing at once are left to their first viewer. */
    static final int QUEUE = 4;
    /** A job with more stored events is not built in the background (its model would not fit beside others). */
    static final int MAX_EVENTS = 1_000_000;

    enum Outcome {
        BUILT,
        CACHED,
        FULL,
        LARGE,
        BUSY,
        GONE,
        FAILED
    }

    private final RunCache cache;
    private final JobReader jobs;
    private final long maxEvents;
    private final BlockingQueue<Long> pending = new ArrayBlockingQueue<>(QUEUE);
    private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
    private final Thread thread;
    private volatile boolean closed;

    /** @param store where finished jobs' models are kept for the cluster's nodes ({@link StoredRunModels}) */
    public RunModels(RunReader runs, RunModelStore store, JobReader jobs, MeterRegistry registry) {
        this(
                new RunCache(
                        Objects.requireNonNull(runs, "runs"), new StoredRunModels(store, registry), RunCache.MAX_SIZE),
                jobs,
                registry,
                MAX_EVENTS);
    }

    RunModels(RunCache cache, JobReader jobs, MeterRegistry registry, long maxEvents) {
        this.cache = cache;
        this.maxEvents = maxEvents;
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        for (Outcome o : Outcome.values())
            outcomes.put(
                    o,
                    Counter.builder(Metrics.ANALYSIS_PREBUILDS)
                            .tag("outcome", o.name().toLowerCase(java.util.Locale.ROOT))
                            .description("Run models built in the background when a job's events completed")
                            .register(registry));
        Gauge.builder(Metrics.ANALYSIS_MODELS_SIZE, cache, RunCache::total)
                .description("Tasks and host results held by the run model cache (about 90 bytes each)")
                .register(registry);
        this.thread = new Thread(this::run, "jobstream-run-models");
        thread.setDaemon(true);
    }

    public RunModels start() {
        thread.start();
        return this;
    }

    RunCache cache() {
        return cache;
    }

    /**
     * The receiver's hook, on its thread, after a commit: offers each job the batch completed for a background
     * build. Never blocks and never throws.
     */
    public void committed(CommittedBatch batch) {
        if (closed) return;
        for (JobChange c : batch.jobChanges()) {
            if (c.eventsFinished() && !pending.offer(c.jobId()))
                outcomes.get(Outcome.BUSY).increment();
        }
    }

    private void run() {
        while (!closed) {
            Long id;
            try {
                id = pending.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return; // close()
            }
            if (id == null) continue;
            Outcome o;
            try {
                o = build(id);
            } catch (RuntimeException e) {
                log.warn("building the run model of job {} in the background failed; its first request will", id, e);
                o = Outcome.FAILED;
            }
            outcomes.get(o).increment();
        }
    }

    /** One background build (the thread's, or a test's on its own thread). */
    Outcome build(long jobId) {
        Optional<JobView> job = jobs.find(jobId);
        if (job.isEmpty()) return Outcome.GONE;
        if (job.get().storedEvents() > maxEvents) return Outcome.LARGE;
        return switch (cache.prebuild(job.get())) {
            case BUILT -> Outcome.BUILT;
            case CACHED -> Outcome.CACHED;
            case FULL -> Outcome.FULL;
        };
    }

    /** Stops the background builds (a build in progress finishes its read); idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cache.stored().close();
    }
}
