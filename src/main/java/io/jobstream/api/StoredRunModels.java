package io.jobstream.api;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a node's run models come from when its memory cache ({@link RunCache}) has none, and where finished jobs'
 * models go so that the next node needing one reads it instead of building it (issue 19): the blobs of
 * {@link RunModelStore}, encoded by {@link RunModelCodec}.
 *
 * <p>Design note. A stored model is only a starting point: {@link RunCache} catches it up from its highest counter
 * and rebuilds it when the job has stored more events than it was built from, exactly as for a model held in memory.
 * So an event that arrived late for a finished job makes the blob stale without anybody having to find and delete
 * it first; the cache then builds afresh and stores the new model in its place (outcome {@code stale}). A blob of
 * another format version ({@code old}) or one that does not decode ({@code corrupt}) is ignored the same way.
 * A blob over {@link #MAX_BYTES} is not stored ({@code large}): the bound on one row; the table holds one row per
 * finished job whose events are kept, and retention deletes it with them. Reads are synchronous (they replace a
 * read of the job's rows). Writes from a request go to one thread with {@value #QUEUE} waiting at most (more are
 * dropped, {@code busy}: the next node to miss builds and stores it), which also encodes the model there, under
 * the model's lock, so a viewer waits neither for the encoding nor for PostgreSQL to take the blob; the background prebuild ({@link RunModels}) writes on its own thread. Failures of
 * the store are logged and counted ({@code failed}) and the model is built from rows as before. Thread-safe.
 */
final class StoredRunModels implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StoredRunModels.class);
    /** The largest blob stored: a model of ~3 million host results (1,000 x 200 is ~1 MB). */
    static final int MAX_BYTES = 16 << 20;
    /** Encoded models waiting to be written from requests. */
    static final int QUEUE = 2;

    enum Outcome {
        /** a request's model was read from the store */
        LOADED,
        /** nothing stored for the job */
        MISSING,
        /** stored by another format version: ignored, rebuilt, replaced */
        OLD,
        /** stored and unreadable: ignored, rebuilt, replaced */
        CORRUPT,
        /** stored and read, but the job has events it lacks: caught up or rebuilt, replaced */
        STALE,
        SAVED,
        /** not stored: the job took another event, expired or was deleted since the model was read */
        REFUSED,
        LARGE,
        BUSY,
        FAILED
    }

    static final StoredRunModels NONE = new StoredRunModels(RunModelStore.NONE, null);

    private final RunModelStore store;
    private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
    private final Counter fromRows;
    private final Counter fromStore;
    private final ThreadPoolExecutor writer;

    StoredRunModels(RunModelStore store, MeterRegistry registry) {
        this.store = Objects.requireNonNull(store, "store");
        MeterRegistry r = registry == null ? new io.micrometer.core.instrument.simple.SimpleMeterRegistry() : registry;
        for (Outcome o : Outcome.values())
            outcomes.put(
                    o,
                    Counter.builder(Metrics.ANALYSIS_MODEL_STORE)
                            .tag("outcome", o.name().toLowerCase(Locale.ROOT))
                            .description("Run models read from and written to job_run_model, by outcome")
                            .register(r));
        fromRows = source(r, "rows");
        fromStore = source(r, "stored");
        writer = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), runnable -> {
            Thread t = new Thread(runnable, "jobstream-run-model-writer");
            t.setDaemon(true);
            return t;
        });
        writer.allowCoreThreadTimeOut(true);
    }

    private static Counter source(MeterRegistry r, String source) {
        return Counter.builder(Metrics.ANALYSIS_MODEL_BUILDS)
                .tag("source", source)
                .description("Run models a request had to make (none in memory, or stale): from the job's index rows"
                        + " or from the stored blob")
                .register(r);
    }

    /** Whether the job's model may be stored: its events are complete and kept. */
    static boolean storable(JobView job) {
        return job.eventProcessingFinished() && !job.eventsExpired();
    }

    /**
     * The stored model of a finished job if there is a readable one of this format; null otherwise (counted, except
     * for a job still running or expired, which is not looked for).
     */
    RunModel load(JobView job) {
        if (store == RunModelStore.NONE || !storable(job)) return null; // a running job's is never stored
        Optional<RunModelStore.Stored> found;
        try {
            found = store.find(job.id());
        } catch (RuntimeException e) {
            log.warn("reading the stored run model of job {} failed; building it from its events", job.id(), e);
            count(Outcome.FAILED);
            return null;
        }
        if (found.isEmpty()) {
            count(Outcome.MISSING);
            return null;
        }
        RunModelStore.Stored s = found.get();
        if (s.format() != RunModelCodec.VERSION) {
            count(Outcome.OLD);
            return null;
        }
        try {
            RunModel m = RunModelCodec.decode(s.model());
            if (m.rows() != s.rows() || m.maxCounter() != s.maxCounter())
                throw new RunModelCodec.Unreadable(
                        "the row says " + s.rows() + " rows, the blob " + m.rows(), false, null);
            count(Outcome.LOADED);
            return m;
        } catch (RunModelCodec.Unreadable e) {
            log.warn(
                    "the stored run model of job {} is unreadable ({}); building it from its events",
                    job.id(),
                    e.getMessage());
            count(e.oldVersion ? Outcome.OLD : Outcome.CORRUPT);
            return null;
        }
    }

    /** Counts where a request's model came from. */
    void made(boolean fromStoredBlob) {
        (fromStoredBlob ? fromStore : fromRows).increment();
    }

    void stale() {
        count(Outcome.STALE);
    }

    /** A model encoded, with the rows it was built from and their highest counter. */
    record Encoded(byte[] blob, int rows, int maxCounter) {
        static Encoded of(RunModel m) {
            return new Encoded(RunModelCodec.encode(m), m.rows(), m.maxCounter());
        }
    }

    /**
     * Encodes and writes a finished job's model on the writer thread, or drops it when {@value #QUEUE} writes are
     * waiting. {@code encode} runs there, not on the request's thread (about as long as the model's build from
     * memory): it must take the model's lock itself, and answers null if the model is no longer held.
     */
    void saveLater(JobView job, java.util.function.Supplier<Encoded> encode) {
        if (store == RunModelStore.NONE || !storable(job)) return;
        try {
            writer.execute(() -> {
                Encoded e = encode.get();
                if (e != null && fits(e.blob())) write(job.id(), e.rows(), e.maxCounter(), e.blob());
            });
        } catch (RejectedExecutionException e) {
            count(Outcome.BUSY);
        }
    }

    /** Encodes and writes the model on the caller's thread (the background prebuild's). */
    void saveNow(JobView job, RunModel m) {
        if (store == RunModelStore.NONE || !storable(job)) return;
        byte[] blob = RunModelCodec.encode(m);
        if (fits(blob)) write(job.id(), m.rows(), m.maxCounter(), blob);
    }

    private boolean fits(byte[] blob) {
        if (blob.length <= MAX_BYTES) return true;
        count(Outcome.LARGE);
        return false;
    }

    private void write(long jobId, int rows, int maxCounter, byte[] blob) {
        try {
            count(store.save(jobId, RunModelCodec.VERSION, rows, maxCounter, blob) ? Outcome.SAVED : Outcome.REFUSED);
        } catch (RuntimeException e) {
            log.warn("storing the run model of job {} failed; the next node to need it builds it", jobId, e);
            count(Outcome.FAILED);
        }
    }

    private void count(Outcome o) {
        outcomes.get(o).increment();
    }

    /** Lets waiting writes finish (a few seconds at most), then stops the writer. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
