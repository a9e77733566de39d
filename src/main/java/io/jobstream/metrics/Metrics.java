package io.jobstream.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Every meter name, and the histogram layout for lags: explicit buckets from 1 ms to 60 s, so a Prometheus
 * {@code histogram_quantile} can tell 5 ms from 50 ms and 5 s from 50 s (AWX's lags range over all of them).
 */
public final class Metrics {
    /** Valid events decoded by ingest; EOF markers are not events and count in {@link #EOFS_RECEIVED}. */
    public static final String EVENTS_RECEIVED = "events.received";

    public static final String EVENTS_REJECTED = "events.rejected";
    public static final String EVENTS_REPAIRED = "events.repaired";
    /**
     * Events changed at ingest by a {@code redact-pattern} match or no_log censoring ({@code events_redacted_total});
     * {@link #REDACT_NO_LOG} counts the no_log ones among them, {@link #REDACT_OVER_BUDGET} strings masked whole
     * because a pattern took too many steps on them.
     */
    public static final String EVENTS_REDACTED = "events.redacted";

    /**
     * What capture levels dropped of committed events, tag {@code level}: events that lost stdout or event_data, and
     * the UTF-8 bytes of text not stored (SPEC §10).
     */
    public static final String CAPTURE_DROPPED_EVENTS = "capture.dropped.events";

    public static final String CAPTURE_DROPPED_BYTES = "capture.dropped.bytes";
    /**
     * Ingest requests refused with 503 at once because PostgreSQL refuses writes, tag {@code reason}: {@code disk_full}
     * (also a quota), {@code insufficient_resources}, {@code read_only}.
     */
    public static final String INGEST_STORE_REFUSED = "ingest.store.refused";

    public static final String REDACT_NO_LOG = "events.redacted.no.log";
    public static final String REDACT_OVER_BUDGET = "redact.over.budget";
    /**
     * Valid lines (events and EOF markers, as the rate bucket weighs them) refused with 429 because their emitter was
     * over {@code ingest.max-rate}.
     */
    public static final String EVENTS_RATE_LIMITED = "events.rate.limited";

    public static final String EVENTS_CREATED_FILLED = "events.created.filled";
    /** Event rows committed: one per new row of {@code job_event}, so a 20,000-event job adds 20,000. */
    public static final String EVENTS_STORED = "events.stored";

    public static final String EVENTS_DUPLICATE = "events.duplicate";
    /** Events PostgreSQL refused even alone (rows of {@code parked_message} with a counter). */
    public static final String EVENTS_PARKED = "events.parked";
    /**
     * EOF markers ({@code {"event": "EOF", "final_counter": n}}, the end of a job's stream): decoded by ingest,
     * committed (each sets its job's {@code final_counter}; a resent EOF is committed, and counted, again), and parked.
     * They are not event rows, so they never count in the {@code events.*} meters.
     */
    public static final String EOFS_RECEIVED = "jobs.eof.received";

    public static final String EOFS_STORED = "jobs.eof.stored";
    public static final String EOFS_PARKED = "jobs.eof.parked";
    public static final String INGEST_REQUESTS = "ingest.requests";
    /**
     * Run models built in the background when a job's events complete, tag {@code outcome}: built, cached (a request
     * built it first), full (no room in the model cache), large (over the job bound), busy (builds already queued),
     * gone (the job was deleted), failed.
     */
    public static final String ANALYSIS_PREBUILDS = "analysis.prebuilds";
    /** Tasks and host results held by the run model cache (about 90 bytes each). */
    public static final String ANALYSIS_MODELS_SIZE = "analysis.models.size";
    /**
     * Finished jobs' run models read from and written to {@code job_run_model}, tag {@code outcome}: loaded, missing,
     * old (another format version), corrupt, stale (the job took events since), saved, refused (the job changed
     * before the write), large, busy (writes already waiting), failed.
     */
    public static final String ANALYSIS_MODEL_STORE = "analysis.models.store";
    /**
     * Run models a request had to make because none was in memory or it was stale, tag {@code source}: {@code rows}
     * (built from the job's job_event_index rows) or {@code stored} (read from job_run_model).
     */
    public static final String ANALYSIS_MODEL_BUILDS = "analysis.models.made";
    /** Refused credentials and permissions, tag {@code reason} (docs/OPERATIONS.md lists them). */
    public static final String AUTH_FAILURES = "auth.failures";
    /** Credential look-ups given up on after 2 s: the database stalled (the request fell back to recent credentials). */
    public static final String AUTH_STORE_TIMEOUTS = "auth.store.timeouts";
    /** Launches refused because the user's share of the waiting room, or the whole room, was full (tag {@code reason}). */
    public static final String JOBS_REFUSED = "jobs.refused";
    /** Launched jobs holding a running slot, and waiting for one (this node). */
    public static final String JOBS_RUNNING = "jobs.running";

    public static final String JOBS_PENDING = "jobs.pending";
    /** Launched jobs whose session's scheduler autogroup could not be given {@code jobs.nice} (see JobPriority). */
    public static final String JOBS_PRIORITY_FAILED = "jobs.priority.failed";
    /**
     * Requests answered 429 for a failure limit, tag {@code by}: {@code address} and {@code username} (password checks
     * over auth.failed-logins-*), {@code failing_address} (any credential from an address over
     * auth.failed-requests-per-address, refused before it is looked up).
     */
    public static final String AUTH_THROTTLED = "auth.throttled";
    /** Login sessions ended before they expired, tag {@code reason}: {@code over_limit} (auth.max-sessions-per-user). */
    public static final String AUTH_SESSIONS_ENDED = "auth.sessions.ended";
    /** Password hashes (PBKDF2) run, and how long requests waited for a free hashing slot. */
    public static final String AUTH_HASHES = "auth.password.hashes";

    public static final String AUTH_HASH_WAIT = "auth.password.hash.wait";
    /**
     * HTTP requests answered 429 because their user already had as many in progress as allowed, tag {@code reason}:
     * {@code requests_per_user} (http.max-requests-per-user), {@code downloads_per_user} (http.max-downloads-per-user),
     * {@code cpu_per_user} (the user had spent more than http.max-cpu-per-user).
     */
    public static final String HTTP_REFUSED = "http.refused";
    /** New job ids refused because their event partition would exceed ingest.max-new-partitions. */
    public static final String PARTITIONS_REFUSED = "job.partitions.refused";
    /**
     * The storage report as gauges (refreshed on a schedule, not per scrape): bytes on disk (tables, indexes, TOAST)
     * and rows per table, tag {@code table} ({@code job_event} sums its partitions); the whole database; and the age
     * of the oldest stored event.
     */
    public static final String STORAGE_BYTES = "storage.bytes";

    public static final String STORAGE_ROWS = "storage.rows";
    public static final String STORAGE_DATABASE_BYTES = "storage.database.bytes";
    public static final String STORAGE_OLDEST_EVENT_AGE = "storage.oldest.event.age";
    public static final String STORAGE_PARTITIONS = "storage.partitions";
    /** What retention and {@code ./jobstream cleanup} deleted on this node: events, whole jobs, partitions. */
    public static final String RETENTION_EVENTS_DELETED = "retention.events.deleted";

    public static final String RETENTION_JOBS_DELETED = "retention.jobs.deleted";
    /** Jobs whose events expired (the row stays, {@code events_expired: true}). */
    public static final String RETENTION_JOBS_EXPIRED = "retention.jobs.events.expired";
    /** Partitions emptied or removed whole, tag {@code action}: {@code truncated} or {@code dropped}. */
    public static final String RETENTION_PARTITIONS = "retention.partitions";
    /** Cleanup runs, tag {@code result}: {@code done}, {@code busy} (another node held the lock), {@code failed}. */
    public static final String RETENTION_RUNS = "retention.runs";

    /** Per-user creation limits reached (tokens, jobs made by tokens), tag {@code what}. */
    public static final String USER_LIMITS = "user.limits.reached";

    public static final String QUEUE_DEPTH = "queue.depth";
    public static final String QUEUE_CAPACITY = "queue.capacity";
    public static final String PERSIST_BATCH_SIZE = "persist.batch.size";
    public static final String PERSIST_BATCH_DURATION = "persist.batch.duration";
    public static final String PERSIST_FAILURES = "persist.failures";
    public static final String REDIS_APPENDED = "redis.stream.appended";
    public static final String REDIS_CLAIMED = "redis.stream.claimed";
    public static final String REDIS_DEAD_LETTERED = "redis.stream.dead.lettered";
    public static final String REDIS_ERRORS = "redis.errors";
    public static final String REDIS_STREAM_LENGTH = "redis.stream.length";
    /** What an ingest 2xx is worth in cluster mode: 3 fsync'd before the reply, 2 within 1 s, 1 when the OS flushes, 0 memory only or unknown. */
    public static final String REDIS_ACK_DURABILITY = "redis.ack.durability";

    public static final String CALLBACK_POPPED = "redis.callback.popped";
    public static final String CALLBACK_RECOVERED = "redis.callback.recovered";
    public static final String CALLBACK_LENGTH = "redis.callback.length";
    public static final String RELAY_PUBLISHED = "broadcast.relay.published";
    public static final String RELAY_RECEIVED = "broadcast.relay.received";
    public static final String RELAY_FAILURES = "broadcast.relay.failures";
    /** Websocket fan-out (per node): connections, outboxes, frames, catch-ups, holes, refusals. */
    public static final String WS_SUBSCRIBERS = "ws.subscribers";

    public static final String WS_OUTBOX_DEPTH = "ws.outbox.depth";
    public static final String WS_OUTBOX_DEPTH_MAX = "ws.outbox.depth.max";
    public static final String WS_OUTBOX_BYTES = "ws.outbox.bytes";
    public static final String WS_REVALIDATIONS = "ws.revalidations";
    public static final String WS_MESSAGES_SENT = "ws.messages.sent";
    public static final String WS_EVENTS_WRITTEN = "ws.events.written";
    public static final String WS_EVENTS_DUPLICATE = "ws.events.duplicate";
    public static final String WS_EVENTS_REPLAYED = "ws.events.replayed";
    public static final String WS_EVENTS_LATE = "ws.events.late";
    public static final String WS_HOLES_SKIPPED = "ws.holes.skipped";
    public static final String WS_CATCHUP_FAILURES = "ws.catchup.failures";
    public static final String WS_CATCHUPS = "ws.catchups";
    /** Pages read for subscribers (resume, gap fill, catch-up), by where they came from: store, shared or recent. */
    public static final String WS_CATCHUP_READS = "ws.catchup.reads";
    /** Bytes of live frames kept for subscribers that fall behind (websocket.RecentFrames). */
    public static final String WS_RECENT_FRAMES_BYTES = "ws.recent.frames.bytes";

    public static final String WS_DISCONNECTS = "ws.disconnects";
    public static final String WS_MESSAGES_REJECTED = "ws.messages.rejected";
    /** {@code jobs} messages not sent because who may see the job could not be asked (tag {@code reason}). */
    public static final String WS_JOBS_FRAMES_DROPPED = "ws.jobs.frames.dropped";

    public static final String WS_OVER_CAPACITY = "ws.over.capacity";
    /**
     * Server-sent-events streams ({@code /api/v2/jobs/{id}/events/stream/}): open now, and ended (tag {@code reason}).
     * Their feeds share the websocket's meters (catch-ups, replayed, written, outbox bytes).
     */
    public static final String SSE_STREAMS = "sse.streams";

    public static final String SSE_ENDS = "sse.ends";
    /** Local subscription groups (the hub every broadcaster delivers into). */
    public static final String HUB_SUBSCRIPTIONS = "hub.subscriptions";

    public static final String HUB_GROUPS = "hub.groups";
    public static final String BROADCAST_FAILURES = "broadcast.failures";
    /** Stdout downloads cut off because the client read slower than http.min-response-rate. */
    public static final String HTTP_DOWNLOADS_TOO_SLOW = "http.downloads.too.slow";

    public static final String LAG_RECEIVED = "lag.received";
    public static final String LAG_COMMITTED = "lag.committed";
    /** One histogram per hop of an event (tag {@code hop}, see {@link Hops}); per node, as every meter here. */
    public static final String HOP = "event.hop";

    public static final String HOP_CREATED_RECEIVED = "created_received";
    public static final String HOP_RECEIVED_COMMITTED = "received_committed";
    public static final String HOP_COMMITTED_PUBLISHED = "committed_published";
    public static final String HOP_PUBLISHED_WRITTEN = "published_written";
    public static final String HOP_CREATED_WRITTEN = "created_written";
    /** The hops in an event's order, end to end last. */
    public static final List<String> HOPS = List.of(
            HOP_CREATED_RECEIVED,
            HOP_RECEIVED_COMMITTED,
            HOP_COMMITTED_PUBLISHED,
            HOP_PUBLISHED_WRITTEN,
            HOP_CREATED_WRITTEN);

    static final Duration[] LAG_BUCKETS = {
        ms(1),
        ms(2),
        ms(5),
        ms(10),
        ms(20),
        ms(50),
        ms(100),
        ms(200),
        ms(500),
        ms(1_000),
        ms(2_000),
        ms(5_000),
        ms(10_000),
        ms(20_000),
        ms(30_000),
        ms(60_000)
    };

    private Metrics() {}

    /**
     * Records the lag from {@code from} to {@code to}. An emitter's clock may be far off: {@code created} may lie
     * in the future (recorded as 0, since a lag cannot be negative) or millennia away, which overflows
     * {@link Duration#toNanos()}; microseconds between any two valid event times
     * (years 1970 to 9999) fit in a long.
     */
    public static void recordLag(Timer timer, Instant from, Instant to) {
        long micros =
                (to.getEpochSecond() - from.getEpochSecond()) * 1_000_000L + (to.getNano() - from.getNano()) / 1_000;
        timer.record(Math.max(0, micros), TimeUnit.MICROSECONDS);
    }

    /** The node's registry, with JVM and process meters bound. */
    public static PrometheusMeterRegistry newRegistry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        return registry;
    }

    /**
     * The redactor's counts, read at scrape time (it counts on its own adders: the decoder sits below metrics). The
     * meters hold their object weakly, so the object is the registry and the suppliers live in the functions.
     */
    public static void bindRedactor(
            MeterRegistry registry, LongSupplier redacted, LongSupplier noLog, LongSupplier overBudget) {
        FunctionCounter.builder(EVENTS_REDACTED, registry, r -> redacted.getAsLong())
                .description("events changed at ingest by a redact-pattern or no_log censoring")
                .register(registry);
        FunctionCounter.builder(REDACT_NO_LOG, registry, r -> noLog.getAsLong())
                .description("events whose result was censored because of no_log")
                .register(registry);
        FunctionCounter.builder(REDACT_OVER_BUDGET, registry, r -> overBudget.getAsLong())
                .description("strings masked whole: a redact-pattern took too many steps on them")
                .register(registry);
    }

    public static Timer lag(MeterRegistry registry, String name, String description) {
        return Timer.builder(name)
                .description(description)
                .serviceLevelObjectives(LAG_BUCKETS)
                .minimumExpectedValue(ms(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry);
    }

    /** A duration histogram for work that takes from microseconds to seconds (flushes, COPYs). */
    public static Timer duration(MeterRegistry registry, String name, String description) {
        return Timer.builder(name)
                .description(description)
                .serviceLevelObjectives(LAG_BUCKETS)
                .register(registry);
    }

    public static DistributionSummary sizes(MeterRegistry registry, String name, String description) {
        return DistributionSummary.builder(name)
                .description(description)
                .serviceLevelObjectives(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
                .register(registry);
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }
}
