package io.jobstream.storage;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The storage report as gauges. A report reads the catalog and counts small tables, too much for every scrape, so
 * {@link #update} is called on a schedule and the gauges show its last numbers; the oldest event's age is computed at
 * scrape time from the kept instant, so it grows between updates as it should. Thread-safe.
 */
final class StorageGauges {
    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<String, AtomicLong> bytes = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> rows = new ConcurrentHashMap<>();
    private final AtomicLong database = new AtomicLong();
    private final AtomicLong partitions = new AtomicLong();
    private final AtomicReference<Instant> oldest = new AtomicReference<>();

    StorageGauges(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        Gauge.builder(Metrics.STORAGE_DATABASE_BYTES, database, AtomicLong::get)
                .description("bytes the database takes on disk (pg_database_size), at the last storage report")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder(Metrics.STORAGE_PARTITIONS, partitions, AtomicLong::get)
                .description("job_event partitions (one per block of 1,000 job ids), at the last storage report")
                .register(registry);
        Gauge.builder(Metrics.STORAGE_OLDEST_EVENT_AGE, oldest, o -> {
                    Instant t = o.get();
                    return t == null ? 0 : Duration.between(t, clock.instant()).toMillis() / 1000.0;
                })
                .description("age of the oldest stored event (0 when none is stored)")
                .baseUnit("seconds")
                .register(registry);
    }

    void update(StorageReport report) {
        database.set(report.databaseBytes());
        oldest.set(report.oldestEvent());
        for (StorageReport.Table t : report.tables()) {
            holder(bytes, t.name(), Metrics.STORAGE_BYTES, "bytes on disk of the table: heap, indexes, TOAST")
                    .set(t.bytes());
            holder(rows, t.name(), Metrics.STORAGE_ROWS, "rows of the table (job_event: the jobs' stored_events)")
                    .set(t.rows());
            if (t.name().equals("job_event")) partitions.set(t.partitions().size());
        }
    }

    private AtomicLong holder(Map<String, AtomicLong> holders, String table, String name, String description) {
        return holders.computeIfAbsent(table, k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder(name, v, AtomicLong::get)
                    .description(description)
                    .tag("table", table)
                    .register(registry);
            return v;
        });
    }
}
