package io.jobstream.storage;

import io.jobstream.config.Config;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code retention-events} and {@code retention-jobs} every {@code retention.interval}, and refreshes the
 * storage gauges every {@link #GAUGE_REFRESH}, on one thread of its own ({@code jobstream-retention}). Every node of a
 * cluster runs it; the cleaner's lock lets one at a time through and the others skip that round. Manual cleanups
 * ({@code ./jobstream cleanup}) go through {@link #clean} too, so the counters count both. A failing round is logged
 * and counted, and the next one runs as planned. {@link #start} starts the thread, {@link #close} stops it.
 */
public final class RetentionSchedule implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RetentionSchedule.class);
    /** How often the storage gauges are brought up to date (a report costs a few catalog queries and counts). */
    public static final Duration GAUGE_REFRESH = Duration.ofMinutes(1);
    /** Largest jobs and playbooks the report lists. */
    public static final int TOP = 10;

    private final Config.RetentionConfig config;
    private final Cleaner cleaner;
    private final StorageReader reader;
    private final Clock clock;
    private final StorageGauges gauges;
    private final Counter eventsDeleted;
    private final Counter jobsDeleted;
    private final Counter jobsExpired;
    private final MeterRegistry registry;
    private final JobFiles files;
    private ScheduledExecutorService thread;

    /** @param jobsDir where this node keeps launched jobs' files ({@code <data-dir>/jobs}), swept with their events */
    public RetentionSchedule(
            Config.RetentionConfig config,
            Cleaner cleaner,
            StorageReader reader,
            Path jobsDir,
            MeterRegistry registry,
            Clock clock) {
        this.config = config;
        this.files = new JobFiles(jobsDir, reader, config.jobs(), clock);
        this.cleaner = cleaner;
        this.reader = reader;
        this.clock = clock;
        this.registry = registry;
        this.gauges = new StorageGauges(registry, clock);
        this.eventsDeleted = Counter.builder(Metrics.RETENTION_EVENTS_DELETED)
                .description("events deleted by retention and cleanup")
                .register(registry);
        this.jobsDeleted = Counter.builder(Metrics.RETENTION_JOBS_DELETED)
                .description("whole jobs deleted by retention and cleanup")
                .register(registry);
        this.jobsExpired = Counter.builder(Metrics.RETENTION_JOBS_EXPIRED)
                .description("jobs whose events retention deleted (the row stays, events_expired)")
                .register(registry);
    }

    public RetentionSchedule start() {
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jobstream-retention");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::refresh, 0, GAUGE_REFRESH.toMillis(), TimeUnit.MILLISECONDS);
        if (config.enabled()) {
            long every = config.interval().toMillis();
            thread.scheduleWithFixedDelay(this::applyRetention, every, every, TimeUnit.MILLISECONDS);
            log.info(
                    "retention: events of jobs finished over {} ago, jobs finished over {} ago, every {}",
                    config.events().isZero() ? "(kept)" : config.events(),
                    config.jobs().isZero() ? "(kept)" : config.jobs(),
                    config.interval());
        }
        return this;
    }

    /** One scheduled round: the configured retention, as {@code ./jobstream cleanup} would run it. */
    void applyRetention() {
        try {
            Optional<CleanupResult> r = clean(
                    new CleanupRequest(config.events(), config.jobs(), false),
                    line -> log.debug("retention: {}", line));
            if (r.isEmpty()) {
                log.debug("retention: another cleanup holds the lock; skipped this round");
            } else if (r.get().eventsDeleted() > 0
                    || r.get().jobsDeleted() > 0
                    || r.get().jobsEventsExpired() > 0) {
                log.info("retention: {}", r.get().toMap());
            }
        } catch (RuntimeException e) {
            log.warn("retention round failed (the next one runs in {}): {}", config.interval(), e.getMessage());
        }
        sweepFiles();
    }

    /** Runs one cleanup now; empty when another one (this node's or another node's) is running. */
    public Optional<CleanupResult> clean(CleanupRequest request, Consumer<String> progress) {
        Optional<CleanupResult> result;
        try {
            result = cleaner.clean(request, clock.instant(), progress);
        } catch (RuntimeException e) {
            registry.counter(Metrics.RETENTION_RUNS, "result", "failed").increment();
            throw e;
        }
        registry.counter(Metrics.RETENTION_RUNS, "result", result.isPresent() ? "done" : "busy")
                .increment();
        result.filter(r -> !r.dryRun()).ifPresent(r -> {
            eventsDeleted.increment(r.eventsDeleted());
            jobsDeleted.increment(r.jobsDeleted());
            jobsExpired.increment(r.jobsEventsExpired());
            registry.counter(Metrics.RETENTION_PARTITIONS, "action", "truncated")
                    .increment(r.partitionsTruncated().size());
            registry.counter(Metrics.RETENTION_PARTITIONS, "action", "dropped")
                    .increment(r.partitionsDropped().size());
            refresh();
        });
        return result;
    }

    /** A fresh report, also brought into the gauges. */
    public StorageReport report() {
        StorageReport report = reader.report(TOP);
        gauges.update(report);
        return report;
    }

    private void refresh() {
        try {
            report();
        } catch (RuntimeException e) {
            log.warn("storage report for the gauges failed (next try in {}): {}", GAUGE_REFRESH, e.getMessage());
        }
        sweepFiles();
    }

    /** This node's files of launched jobs whose events are gone (whichever node's cleanup removed them). */
    private void sweepFiles() {
        try {
            int n = files.sweep();
            if (n > 0) log.info("retention: deleted the files of {} launched jobs whose events are gone", n);
        } catch (IOException | RuntimeException e) {
            log.warn(
                    "retention: sweeping launched jobs' files failed (next try in {}): {}",
                    GAUGE_REFRESH,
                    e.toString());
        }
    }

    @Override
    public void close() {
        if (thread != null) thread.shutdownNow();
    }
}
