package io.jobstream.api;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The run models of recently asked jobs, kept up to date instead of rebuilt: a job of 1,000 hosts × 200 tasks is
 * 400,000 rows, too many to read for every timeline request, and a running job's page asks again every few seconds.
 *
 * <p>Design note. A model is built from the job's rows in counter order. Each use first reads only the rows after
 * the model's highest counter (the primary key's range scan) and applies them, so a finished job costs one empty
 * read and a running one its new events. Events of a job may arrive out of order: a row that arrives late below the
 * model's highest counter is never read by that catch-up, so the model's row count is checked against the job's
 * {@code stored_events} (counted in the same transaction as the rows): fewer rows than the job has stored means a
 * gap was filled, and the model is rebuilt. The cache holds at most {@link #MAX_SIZE} tasks and host results in all
 * (about 90 bytes each, 90 MB), the least recently used job going first; a single job larger than that is built
 * per request and not kept. {@link RunModels} also puts here the models it builds as jobs finish
 * ({@link #prebuild}), only into free room. A job not held here is first looked for in {@link StoredRunModels}
 * (a finished job's model, stored by whichever node built it), and a model made or changed here for a finished
 * job is stored for the next node; either way it is caught up and checked as above.
 *
 * <p>Thread-safe. Uses of one job are serialised on its entry (a model is mutable); different jobs run in
 * parallel. Holders never take two entries at once.
 */
final class RunCache {
    static final long MAX_SIZE = 1_000_000;

    private static final class Entry {
        /** null until the entry's first use reads or builds it */
        RunModel model;
    }

    private final RunReader reader;
    private final StoredRunModels stored;
    private final long maxSize;
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<Long, Long> sizes = new java.util.HashMap<>();
    private long total;

    RunCache(RunReader reader, long maxSize) {
        this(reader, StoredRunModels.NONE, maxSize);
    }

    RunCache(RunReader reader, StoredRunModels stored, long maxSize) {
        this.reader = reader;
        this.stored = stored;
        this.maxSize = maxSize;
    }

    RunCache(RunReader reader) {
        this(reader, MAX_SIZE);
    }

    StoredRunModels stored() {
        return stored;
    }

    /** What {@link #prebuild} did. */
    enum Prebuild {
        /** built and kept */
        BUILT,
        /** the job already has a model (a request built it first): nothing done */
        CACHED,
        /**
         * not kept: the cache had no room for it without evicting another job's model (built and stored all the
         * same when there is a store, for the job's first viewer to read)
         */
        FULL
    }

    /**
     * Builds the job's model and keeps it only if it fits beside the models already held, never evicting one: a job
     * nobody has asked for yet must not push out one somebody is looking at. Before building, the job is assumed to
     * weigh half its stored events (a finished run has a start and a result event per host and task); the model's
     * real size decides whether it is kept. Builds outside every lock, so requests for other jobs go on meanwhile;
     * a request for this job during the build builds its own model, and that one is kept.
     */
    Prebuild prebuild(JobView job) {
        synchronized (this) {
            if (entries.containsKey(job.id())) return Prebuild.CACHED;
            if (total + job.storedEvents() / 2 > maxSize && stored == StoredRunModels.NONE) return Prebuild.FULL;
        }
        RunModel m = new RunModel();
        reader.visit(job.id(), 0, m);
        stored.saveNow(job, m); // nobody else holds m yet
        long size = m.size();
        synchronized (this) {
            if (entries.containsKey(job.id())) return Prebuild.CACHED;
            if (total + size > maxSize) return Prebuild.FULL;
            Entry e = new Entry();
            e.model = m;
            entries.put(job.id(), e);
            sizes.put(job.id(), size);
            total += size;
        }
        return Prebuild.BUILT;
    }

    /** The entry's model encoded under its lock, for the store's writer; null once the entry is gone. */
    private StoredRunModels.Encoded encodeHeld(long jobId, Entry e) {
        synchronized (this) {
            if (entries.get(jobId) != e) return null; // evicted meanwhile: the next node to miss stores it
        }
        synchronized (e) {
            return e.model == null ? null : StoredRunModels.Encoded.of(e.model);
        }
    }

    /** Tasks and host results held in all (at most the bound, between uses). */
    synchronized long total() {
        return total;
    }

    synchronized boolean holds(long jobId) {
        return entries.containsKey(jobId);
    }

    /** Runs {@code use} on the job's up-to-date model, under that job's lock; {@code use} must not keep it. */
    <T> T with(JobView job, Function<RunModel, T> use) {
        Entry e;
        synchronized (this) {
            e = entries.computeIfAbsent(job.id(), id -> new Entry());
        }
        T result;
        long size;
        synchronized (e) {
            RunModel m = e.model;
            boolean fresh = m == null;
            boolean loaded = false;
            if (fresh) { // not in memory: the stored model of a finished job, if any, else build from the rows
                m = stored.load(job);
                loaded = m != null;
                if (m == null) m = new RunModel();
                e.model = m;
            }
            int before = m.rows();
            reader.visit(job.id(), m.maxCounter(), m);
            boolean rebuilt = false;
            if (m.rows() < job.storedEvents()) { // a row came late, below what the model had read: start again
                m = new RunModel();
                reader.visit(job.id(), 0, m);
                e.model = m;
                rebuilt = true;
            }
            boolean changed = rebuilt || m.rows() != before;
            if (loaded && changed) stored.stale();
            if (fresh || rebuilt) stored.made(loaded && !rebuilt);
            result = use.apply(m);
            if (changed) stored.saveLater(job, () -> encodeHeld(job.id(), e)); // a finished job's only
            size = m.size();
        }
        synchronized (this) {
            if (entries.get(job.id()) == e) {
                total += size - sizes.getOrDefault(job.id(), 0L);
                sizes.put(job.id(), size);
            }
            for (Iterator<Map.Entry<Long, Entry>> it = entries.entrySet().iterator();
                    it.hasNext() && total > maxSize; ) {
                Map.Entry<Long, Entry> oldest = it.next();
                total -= sizes.getOrDefault(oldest.getKey(), 0L);
                sizes.remove(oldest.getKey());
                it.remove();
            }
        }
        return result;
    }
}
