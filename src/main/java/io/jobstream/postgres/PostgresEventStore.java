package io.jobstream.postgres;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.event.StoredEvent;
import io.jobstream.persist.EventStore;
import io.jobstream.persist.StoreException;
import io.jobstream.persist.WriteResult;
import io.jobstream.persist.WriteResult.Outcome;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of stage 3 on PostgreSQL: one transaction per batch, binary COPY for the rows, job bookkeeping in
 * the same transaction, idempotent on (job_id, counter).
 *
 * <p>Design note. Most batches hold only new events, so the fast path COPYs them straight in after dropping the
 * redeliveries this node already knows ({@link StoredCounters}). When the database still finds a duplicate, the
 * batch is rolled back and rewritten through {@link EventCopy#copyNew}, which reports exactly which rows were new.
 * When a batch fails with a data error (a poison message), it is split in halves and each half written on its own,
 * down to the single message, which is then parked in {@code parked_message} with the reason; its neighbours are
 * stored. Any other error (connection, server down) propagates: nothing was committed and the receiver retries.
 * Receiver thread only.
 */
public final class PostgresEventStore implements EventStore {
    private static final Logger log = LoggerFactory.getLogger(PostgresEventStore.class);

    private final DataSource dataSource;
    private final Clock clock;
    private final Partitions partitions = new Partitions();
    private final IdBlocks ids = new IdBlocks();
    private final StoredCounters known = new StoredCounters(512);
    private final EventCopy copy = new EventCopy();
    private final EventIndexCopy index = new EventIndexCopy();

    public PostgresEventStore(DataSource dataSource, Clock clock) {
        this.dataSource = dataSource;
        this.clock = clock;
    }

    @Override
    public WriteResult write(List<JobMessage> messages) {
        Outcome[] outcomes = new Outcome[messages.size()];
        String[] reasons = new String[messages.size()];
        List<Integer> todo = new ArrayList<>();
        Set<Long> batchKeys = new HashSet<>();
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) instanceof JobEvent e
                    && (known.contains(e.jobId(), e.counter()) || !batchKeys.add(key(e)))) {
                outcomes[i] = Outcome.DUPLICATE;
            } else {
                todo.add(i);
            }
        }
        List<StoredEvent> stored = new ArrayList<>();
        List<JobChange> changes = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            partitions.ensure(c, jobIds(messages, todo));
            writeIsolating(c, messages, todo, outcomes, reasons, stored, changes);
        } catch (SQLException e) {
            throw new StoreUnavailable(e);
        }
        // after the last commit: the batch's hop split point (see CommittedBatch)
        return new WriteResult(
                Arrays.asList(outcomes), Arrays.asList(reasons), new CommittedBatch(stored, changes, clock.instant()));
    }

    /** Writes {@code todo} in one transaction; on a data error, splits it to isolate and park the poison. */
    private void writeIsolating(
            Connection c,
            List<JobMessage> messages,
            List<Integer> todo,
            Outcome[] outcomes,
            String[] reasons,
            List<StoredEvent> stored,
            List<JobChange> changes)
            throws SQLException {
        if (todo.isEmpty()) return;
        try {
            try {
                writeChunk(c, messages, todo, outcomes, stored, changes);
            } catch (SQLException e) {
                // retention (maybe on another node) dropped a partition this node had seen: make it again, once
                if (!Partitions.missing(e)) throw e;
                partitions.forget();
                partitions.ensure(c, jobIds(messages, todo));
                writeChunk(c, messages, todo, outcomes, stored, changes);
            }
        } catch (SQLException | IllegalArgumentException | ArithmeticException e) {
            // Encoding errors (a value PostgreSQL cannot represent) are data errors too: retrying cannot help.
            if (e instanceof SQLException sql && !isDataError(sql)) throw sql;
            if (todo.size() == 1) {
                int i = todo.get(0);
                park(c, messages.get(i), e);
                outcomes[i] = Outcome.PARKED;
                reasons[i] = "could not be stored: " + e.getMessage();
                return;
            }
            int half = todo.size() / 2;
            writeIsolating(c, messages, todo.subList(0, half), outcomes, reasons, stored, changes);
            writeIsolating(c, messages, todo.subList(half, todo.size()), outcomes, reasons, stored, changes);
        }
    }

    private void writeChunk(
            Connection c,
            List<JobMessage> messages,
            List<Integer> todo,
            Outcome[] outcomes,
            List<StoredEvent> stored,
            List<JobChange> changes)
            throws SQLException {
        List<JobEvent> events = new ArrayList<>();
        List<Integer> eventIndexes = new ArrayList<>();
        for (int i : todo) {
            if (messages.get(i) instanceof JobEvent e) {
                events.add(e);
                eventIndexes.add(i);
            }
        }
        long[] rowIds = new long[events.size()];
        ids.fill(c, rowIds);
        Instant modified = clock.instant().truncatedTo(ChronoUnit.MICROS);
        c.setAutoCommit(false);
        try {
            Set<Integer> inserted = insert(c, events, rowIds, modified);
            index.copy(c, events, inserted); // same transaction: searchable exactly when stored
            JobRows jobs = new JobRows();
            List<StoredEvent> batchStored = new ArrayList<>();
            for (int k = 0; k < events.size(); k++) {
                JobEvent e = events.get(k);
                jobs.touch(e.jobId());
                if (inserted == null || inserted.contains(k)) {
                    jobs.stored(e, modified, copy.textBytes(k)); // sizes from the COPY's own encoding
                    batchStored.add(new StoredEvent(rowIds[k], e, modified));
                }
            }
            for (int i : todo) if (messages.get(i) instanceof JobEof eof) jobs.eof(eof);
            List<JobChange> batchChanges = jobs.write(c);
            c.commit();
            for (int k = 0; k < events.size(); k++) {
                boolean isNew = inserted == null || inserted.contains(k);
                outcomes[eventIndexes.get(k)] = isNew ? Outcome.STORED : Outcome.DUPLICATE;
                known.add(events.get(k).jobId(), events.get(k).counter());
            }
            for (int i : todo) if (messages.get(i) instanceof JobEof) outcomes[i] = Outcome.STORED;
            stored.addAll(batchStored);
            changes.addAll(batchChanges);
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Returns null when every event was new (fast path), else the indexes of the new ones. */
    private Set<Integer> insert(Connection c, List<JobEvent> events, long[] rowIds, Instant modified)
            throws SQLException {
        if (events.isEmpty()) return null;
        try {
            copy.copyAll(c, events, rowIds, modified);
            return null;
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState())) throw e;
            c.rollback();
            return copy.copyNew(c, events, rowIds, modified);
        }
    }

    private void park(Connection c, JobMessage m, Exception cause) throws SQLException {
        log.error(
                "parked a message that cannot be stored: job {} counter {}: {}",
                m.jobId(),
                m instanceof JobEvent e ? e.counter() : null,
                cause.getMessage());
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO parked_message (job_id, counter, reason, message) VALUES (?, ?, ?, ?)")) {
            ps.setLong(1, m.jobId());
            if (m instanceof JobEvent e) ps.setInt(2, e.counter());
            else ps.setNull(2, java.sql.Types.INTEGER);
            ps.setString(3, String.valueOf(cause.getMessage()));
            ps.setString(4, m.toString().replace("\0", ""));
            ps.executeUpdate();
        }
    }

    /** SQL states of data that can never be stored as sent (retrying the same bytes cannot help). */
    static boolean isDataError(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("22") || (s.startsWith("23") && !s.equals("23505")) || s.startsWith("54"));
    }

    private static Set<Long> jobIds(List<JobMessage> messages, List<Integer> todo) {
        Set<Long> jobIds = new TreeSet<>();
        for (int i : todo) jobIds.add(messages.get(i).jobId());
        return jobIds;
    }

    private static long key(JobEvent e) {
        return (e.jobId() << 32) ^ e.counter();
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            log.debug("rollback failed after an error: {}", e.toString());
        }
    }

    /**
     * The database could not be reached or failed; nothing of the batch was committed. Classified by SQLSTATE: class 53
     * (insufficient resources: 53100 disk full, which is also how a filesystem quota shows) and 25006 (read-only)
     * mean PostgreSQL is up but cannot write; anything else is an outage.
     */
    public static final class StoreUnavailable extends StoreException {
        StoreUnavailable(SQLException cause) {
            this(cause, cause.getSQLState() == null ? "" : cause.getSQLState());
        }

        private StoreUnavailable(SQLException cause, String state) {
            super(tag(state), reason(state), state.startsWith("53") || state.equals("25006"), cause);
        }

        private static String tag(String state) {
            if (state.equals("53100")) return "disk_full";
            if (state.startsWith("53")) return "insufficient_resources";
            if (state.equals("25006")) return "read_only";
            return "unavailable";
        }

        // no server message: it names files in the data directory, and the reason goes to emitters
        private static String reason(String state) {
            return switch (tag(state)) {
                case "disk_full" -> "PostgreSQL cannot write: disk full or quota exceeded (SQLSTATE 53100)";
                case "insufficient_resources" -> "PostgreSQL cannot write: out of resources (SQLSTATE " + state + ")";
                case "read_only" -> "PostgreSQL cannot write: the database is read-only (SQLSTATE 25006)";
                default -> "database unavailable" + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")");
            };
        }
    }
}
