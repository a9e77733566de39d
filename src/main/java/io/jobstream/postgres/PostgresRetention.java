package io.jobstream.postgres;

import io.jobstream.storage.Cleaner;
import io.jobstream.storage.CleanupRequest;
import io.jobstream.storage.CleanupResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * Retention on PostgreSQL: deletes the events, or whole jobs, of jobs that finished before a cutoff, without ever
 * holding a lock that ingest waits for.
 *
 * <p>Design note. {@code job_event} is partitioned by blocks of 1000 job ids, and job ids grow with time (the API's
 * sequence; AWX-style emitters number their jobs the same way), so most blocks expire whole. A block whose jobs all
 * finished before the cutoff is emptied in one short transaction: lock that partition alone (ACCESS EXCLUSIVE with a
 * 500 ms lock timeout: COPY into the other partitions never waits for it), check again under the lock that every job
 * of the block still qualifies (a job created meanwhile in an old block cannot slip in), mark or delete the job rows,
 * TRUNCATE. When whole jobs go, the empty partition is then detached CONCURRENTLY (no lock against ingest on the
 * parent), renamed out of the way and dropped; rows that reached it while it was being detached are copied back
 * first. Expired jobs that share a block with jobs that stay are deleted {@code batchSize} rows per transaction,
 * walking the {@code (job_id, counter)} key forward so no batch rescans the dead rows of the one before. Running jobs
 * ({@code finished} is null) never qualify. A session advisory lock keeps cleanups, of every node, one at a time.
 * Thread-safe: each call borrows one connection and keeps it for the run.
 */
public final class PostgresRetention implements Cleaner {
    /** The advisory lock every node's cleanup takes (an arbitrary constant: "jobstrm" in ASCII). */
    public static final long LOCK_KEY = 0x6a6f627374726dL;
    /** How long a lock on one partition (or the detach of one) may be waited for before going the batched way. */
    static final String LOCK_TIMEOUT = "500ms";

    static final String FINAL = "status IN ('successful', 'failed', 'error', 'canceled') AND finished IS NOT NULL";
    private static final int PAGE = 1000;

    private final DataSource dataSource;
    private final int batchSize;

    public PostgresRetention(DataSource dataSource, int batchSize) {
        this.dataSource = dataSource;
        this.batchSize = batchSize;
    }

    @Override
    public Optional<CleanupResult> clean(CleanupRequest request, Instant now, Consumer<String> progress) {
        long start = System.nanoTime();
        try (Connection c = dataSource.getConnection()) {
            if (!tryLock(c)) return Optional.empty();
            try {
                execute(c, "SET lock_timeout = '" + LOCK_TIMEOUT + "'");
                Run run = new Run(c, request.eventsCutoff(now), request.jobsCutoff(now), request.dryRun(), progress);
                if (!request.nothing()) run.all();
                return Optional.of(run.result(Duration.ofNanos(System.nanoTime() - start)));
            } finally {
                if (!c.getAutoCommit()) c.rollback();
                c.setAutoCommit(true);
                execute(c, "RESET lock_timeout");
                execute(c, "SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cleanup failed: " + e.getMessage(), e);
        }
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_try_advisory_lock(" + LOCK_KEY + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** What one block of job ids holds, read from the job rows. */
    private record Block(long number, long jobs, long jobsGone, long eventsGone, long events, long bytes, long live) {}

    /** One cleanup run on one connection. */
    private final class Run {
        final Connection c;
        final Timestamp eventsCutoff;
        final Timestamp jobsCutoff;
        final boolean dry;
        final Consumer<String> progress;
        long jobsDeleted;
        long jobsExpired;
        long eventsDeleted;
        long bytes;
        long batches;
        final List<String> truncated = new ArrayList<>();
        final List<String> dropped = new ArrayList<>();
        /** Blocks a dry run counted whole: its per-job pass must not count their jobs again. */
        final java.util.Set<Long> countedWhole = new java.util.HashSet<>();

        Run(Connection c, Instant eventsCutoff, Instant jobsCutoff, boolean dry, Consumer<String> progress) {
            this.c = c;
            this.eventsCutoff = eventsCutoff == null ? null : Timestamp.from(eventsCutoff);
            this.jobsCutoff = jobsCutoff == null ? null : Timestamp.from(jobsCutoff);
            this.dry = dry;
            this.progress = progress;
        }

        CleanupResult result(Duration took) {
            return new CleanupResult(
                    dry,
                    eventsCutoff == null ? null : eventsCutoff.toInstant(),
                    jobsCutoff == null ? null : jobsCutoff.toInstant(),
                    jobsDeleted,
                    jobsExpired,
                    eventsDeleted,
                    bytes,
                    truncated,
                    dropped,
                    batches,
                    took);
        }

        void all() throws SQLException {
            if (!dry) finishDetached();
            TreeMap<Long, String> partitions = partitions();
            TreeMap<Long, Block> blocks = blocks();
            long newest = blocks.isEmpty() ? Long.MAX_VALUE : blocks.lastKey();
            for (var p : partitions.entrySet()) {
                Block b = blocks.get(p.getKey());
                if (b == null) {
                    // no job row left in the block: an empty leftover of an earlier run (never the newest block,
                    // where the receiver may be creating a partition for a job whose row is not committed yet)
                    if (jobsCutoff != null && p.getKey() < newest && !dry && empty(p.getValue())) drop(p.getValue());
                } else if (jobsCutoff != null && b.jobs() == b.jobsGone()) {
                    if (emptyWhole(b, p.getValue(), true) && !dry && noJobs(b.number())) drop(p.getValue());
                } else if (eventsCutoff != null && b.jobs() == b.eventsGone() && b.live() > 0) {
                    emptyWhole(b, p.getValue(), false);
                }
            }
            perJob();
        }

        /** {@code job_event} partitions by block number. */
        TreeMap<Long, String> partitions() throws SQLException {
            TreeMap<Long, String> parts = new TreeMap<>();
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid ="
                            + " i.inhrelid WHERE i.inhparent = 'job_event'::regclass AND NOT i.inhdetachpending")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    if (name.matches(Partitions.PREFIX + "\\d{1,15}")) {
                        parts.put(Long.parseLong(name.substring(Partitions.PREFIX.length())), name);
                    }
                }
            }
            return parts;
        }

        TreeMap<Long, Block> blocks() throws SQLException {
            TreeMap<Long, Block> blocks = new TreeMap<>();
            String done = "(" + FINAL + " AND finished < ?)";
            try (PreparedStatement ps = c.prepareStatement("SELECT id / " + Partitions.JOBS_PER_PARTITION
                    + ", count(*), count(*) FILTER (WHERE " + done + "),"
                    + " count(*) FILTER (WHERE events_expired OR " + done + "),"
                    + " coalesce(sum(stored_events) FILTER (WHERE NOT events_expired), 0),"
                    + " coalesce(sum(stored_bytes) FILTER (WHERE NOT events_expired), 0),"
                    + " count(*) FILTER (WHERE NOT events_expired)"
                    + " FROM job GROUP BY 1")) {
                ps.setTimestamp(1, jobsCutoff);
                ps.setTimestamp(2, eventsCutoff);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Block b = new Block(
                                rs.getLong(1),
                                rs.getLong(2),
                                rs.getLong(3),
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getLong(6),
                                rs.getLong(7));
                        blocks.put(b.number(), b);
                    }
                }
            }
            return blocks;
        }

        /**
         * Empties one partition whose jobs all qualify, in one short transaction that holds only that partition.
         * Returns false (and leaves the jobs to {@link #perJob}) when the partition is busy or a job no longer
         * qualifies.
         */
        boolean emptyWhole(Block b, String partition, boolean jobs) throws SQLException {
            long lo = Partitions.firstJob(b.number());
            long hi = lo + Partitions.JOBS_PER_PARTITION;
            String what = jobs ? "delete " + b.jobs() + " jobs" : "expire the events of " + b.live() + " jobs";
            if (dry) {
                progress.accept("would truncate " + partition + " (jobs " + lo + "-" + (hi - 1) + "): " + what + ", "
                        + b.events() + " events");
                count(b, jobs);
                truncated.add(partition);
                countedWhole.add(b.number());
                return true;
            }
            List<Long> emptied = new ArrayList<>(); // the jobs whose events this transaction takes
            c.setAutoCommit(false);
            try {
                execute(c, "LOCK TABLE " + partition + " IN ACCESS EXCLUSIVE MODE");
                String qualifies =
                        jobs ? FINAL + " AND finished < ?" : "events_expired OR (" + FINAL + " AND finished < ?)";
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT count(*) FROM job WHERE id >= ? AND id < ?" + " AND NOT (" + qualifies + ")")) {
                    Statements.bind(ps, lo, hi, jobs ? jobsCutoff : eventsCutoff);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) > 0) { // a job of the block changed since it was looked at
                            c.rollback();
                            return false;
                        }
                    }
                }
                // the condition again: a job row made meanwhile in this old block (a trusted writer's id, created
                // before its events are queued) is not the partition's to lose; its events wait for the lock
                try (PreparedStatement ps = c.prepareStatement(
                        jobs
                                ? "DELETE FROM job WHERE id >= ? AND id < ? AND " + FINAL + " AND finished < ?"
                                        + " RETURNING id"
                                : "UPDATE job SET events_expired = true WHERE id >= ? AND id < ? AND NOT events_expired"
                                        + " AND " + FINAL + " AND finished < ? RETURNING id")) {
                    Statements.bind(ps, lo, hi, jobs ? jobsCutoff : eventsCutoff);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) emptied.add(rs.getLong(1));
                    }
                }
                execute(c, "TRUNCATE " + partition);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                if (!"55P03".equals(e.getSQLState())) throw e; // lock_not_available: others are reading it now
                progress.accept(partition + " is busy; its jobs go in batches instead");
                return false;
            } finally {
                c.setAutoCommit(true);
            }
            // after the commit, in batches of their own: the index table is not partitioned, nothing to truncate
            for (long id : emptied) deleteIndexRows(id);
            count(b, jobs);
            truncated.add(partition);
            progress.accept("truncated " + partition + " (jobs " + lo + "-" + (hi - 1) + "): " + what + ", "
                    + b.events() + " events");
            return true;
        }

        private void count(Block b, boolean jobs) {
            if (jobs) jobsDeleted += b.jobs();
            else jobsExpired += b.live();
            eventsDeleted += b.events();
            bytes += b.bytes();
        }

        /** Whether no job row is left in a block (one may be made at any time by a trusted writer's new id). */
        boolean noJobs(long block) throws SQLException {
            long lo = Partitions.firstJob(block);
            try (PreparedStatement ps =
                    c.prepareStatement("SELECT NOT EXISTS (SELECT 1 FROM job WHERE id >= ? AND" + " id < ?)")) {
                Statements.bind(ps, lo, lo + Partitions.JOBS_PER_PARTITION);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        }

        boolean empty(String partition) throws SQLException {
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM " + partition + ")")) {
                rs.next();
                return rs.getBoolean(1);
            }
        }

        /**
         * Drops an empty partition without a lock against ingest: DETACH … CONCURRENTLY, rename (so the receiver
         * can make a new one of that name at once), copy back any row that arrived meanwhile, DROP.
         */
        void drop(String partition) throws SQLException {
            try {
                execute(c, "ALTER TABLE job_event DETACH PARTITION " + partition + " CONCURRENTLY");
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState())) throw e;
                progress.accept(partition + " is busy; left empty, dropped by a later run");
                return;
            }
            dropDetached(partition);
        }

        void dropDetached(String partition) throws SQLException {
            String gone = partition + "_expired";
            execute(c, "ALTER TABLE " + partition + " RENAME TO " + gone);
            if (!empty(gone)) {
                long block = Long.parseLong(partition.substring(Partitions.PREFIX.length()));
                long lo = Partitions.firstJob(block);
                execute(
                        c,
                        "CREATE TABLE IF NOT EXISTS " + partition + " PARTITION OF job_event FOR VALUES FROM (" + lo
                                + ") TO (" + (lo + Partitions.JOBS_PER_PARTITION) + ")");
                execute(c, "INSERT INTO job_event SELECT * FROM " + gone + " ON CONFLICT DO NOTHING");
                progress.accept(partition + ": events that arrived while it was detached were kept");
            }
            execute(c, "DROP TABLE " + gone);
            dropped.add(partition);
            progress.accept("dropped " + partition);
        }

        /** Detaches a crash or cancel left halfway (PostgreSQL marks them pending), and tables renamed, not dropped. */
        void finishDetached() throws SQLException {
            List<String> pending = new ArrayList<>();
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid ="
                            + " i.inhrelid WHERE i.inhparent = 'job_event'::regclass AND i.inhdetachpending")) {
                while (rs.next()) pending.add(rs.getString(1));
            }
            for (String p : pending) {
                execute(c, "ALTER TABLE job_event DETACH PARTITION " + p + " FINALIZE");
                dropDetached(p);
            }
            List<String> leftovers = new ArrayList<>();
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname ~ '^"
                            + Partitions.PREFIX + "[0-9]+_expired$' AND relispartition = false")) {
                while (rs.next()) leftovers.add(rs.getString(1));
            }
            for (String gone : leftovers) {
                String partition = gone.substring(0, gone.length() - "_expired".length());
                if (!empty(gone)) {
                    long lo = Partitions.firstJob(Long.parseLong(partition.substring(Partitions.PREFIX.length())));
                    execute(
                            c,
                            "CREATE TABLE IF NOT EXISTS " + partition + " PARTITION OF job_event FOR VALUES FROM (" + lo
                                    + ") TO (" + (lo + Partitions.JOBS_PER_PARTITION) + ")");
                    execute(c, "INSERT INTO job_event SELECT * FROM " + gone + " ON CONFLICT DO NOTHING");
                }
                execute(c, "DROP TABLE " + gone);
                dropped.add(partition);
            }
        }

        /** Expired jobs the whole-partition pass left: page through them by id, each in short batches. */
        void perJob() throws SQLException {
            Timestamp latest = later(eventsCutoff, jobsCutoff);
            long after = 0;
            long seen = 0;
            while (true) {
                List<long[]> page = new ArrayList<>(); // id, events, bytes, gone (1 = whole job)
                try (PreparedStatement ps = c.prepareStatement("SELECT id, stored_events, stored_bytes,"
                        + " coalesce(finished < ?, false) FROM job WHERE " + FINAL + " AND finished < ? AND id > ?"
                        + " AND (NOT events_expired OR coalesce(finished < ?, false)) ORDER BY id LIMIT " + PAGE)) {
                    Statements.bind(ps, jobsCutoff, latest, after, jobsCutoff);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            page.add(
                                    new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getBoolean(4) ? 1 : 0});
                        }
                    }
                }
                if (page.isEmpty()) return;
                for (long[] job : page) {
                    if (countedWhole.contains(job[0] / Partitions.JOBS_PER_PARTITION)) continue;
                    one(job[0], job[1], job[2], job[3] == 1);
                }
                after = page.get(page.size() - 1)[0];
                seen += page.size();
                progress.accept(seen + " jobs looked at one by one: " + eventsDeleted + " events deleted so far");
            }
        }

        private void one(long id, long events, long jobBytes, boolean whole) throws SQLException {
            if (dry) {
                if (whole) jobsDeleted++;
                else jobsExpired++;
                eventsDeleted += events;
                bytes += jobBytes;
                batches += (events + batchSize - 1) / batchSize;
                return;
            }
            if (!whole) {
                // the row says so first: a reader never takes a job that is being emptied for one still complete
                try (PreparedStatement ps = c.prepareStatement("UPDATE job SET events_expired = true WHERE id = ? AND "
                        + FINAL + " AND finished < ? AND NOT events_expired")) {
                    Statements.bind(ps, id, eventsCutoff);
                    if (ps.executeUpdate() == 0) return;
                }
                jobsExpired++;
            }
            long deleted = deleteEvents(id);
            deleteIndexRows(id);
            if (whole) {
                try (PreparedStatement ps =
                        c.prepareStatement("DELETE FROM job WHERE id = ? AND " + FINAL + " AND finished < ?")) {
                    Statements.bind(ps, id, jobsCutoff);
                    jobsDeleted += ps.executeUpdate();
                }
            }
            eventsDeleted += deleted;
            bytes += jobBytes;
        }

        /**
         * Deletes one job's stored run model (V8's {@code job_run_model}) and its rows of the search and
         * run-analysis index (V6's {@code job_event_index}) {@code batchSize} at a time, once its events are gone: a
         * key left behind would show in the job's timeline and make searches step over a missing event. A crash between the two leaves keys the search skips (it joins the events) until
         * the job is cleaned again.
         */
        private void deleteIndexRows(long id) throws SQLException {
            // the stored run model first (V8): one row, and one left behind would answer for events no longer kept
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM job_run_model WHERE job_id = ?")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("WITH d AS (DELETE FROM job_event_index WHERE job_id = ?"
                    + " AND counter IN (SELECT counter FROM job_event_index WHERE job_id = ? ORDER BY counter LIMIT ?)"
                    + " RETURNING 1) SELECT count(*) FROM d")) {
                while (true) {
                    Statements.bind(ps, id, id, batchSize);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) == 0) return; // not counted in batches: those are the events' deletes
                    }
                }
            }
        }

        /** Deletes one job's events {@code batchSize} at a time, each batch its own short transaction. */
        private long deleteEvents(long id) throws SQLException {
            long total = 0;
            int last = 0;
            try (PreparedStatement ps = c.prepareStatement("WITH d AS (DELETE FROM job_event WHERE job_id = ? AND"
                    + " counter IN (SELECT counter FROM job_event WHERE job_id = ? AND counter > ? ORDER BY counter"
                    + " LIMIT ?) RETURNING counter) SELECT count(*), coalesce(max(counter), 0) FROM d")) {
                while (true) {
                    Statements.bind(ps, id, id, last, batchSize);
                    long n;
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        n = rs.getLong(1);
                        last = rs.getInt(2);
                    }
                    if (n == 0) return total;
                    batches++;
                    total += n;
                    if (batches % 20 == 0) progress.accept("job " + id + ": " + total + " events deleted");
                }
            }
        }
    }

    private static Timestamp later(Timestamp a, Timestamp b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.after(b) ? a : b;
    }
}
