package io.jobstream.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Creates {@code job_event} partitions on demand: partition N holds job ids [N*1000, (N+1)*1000). Known
 * partitions are remembered, so the check costs nothing on the hot path. Several nodes may race to create the same
 * partition; the loser's "already exists" error is expected and ignored. Retention may drop a partition whose jobs
 * all expired ({@code PostgresRetention}); a write that then finds no partition forgets the cache and makes it again.
 * Receiver thread only.
 */
final class Partitions {
    static final long JOBS_PER_PARTITION = 1000;
    private final Set<Long> known = new HashSet<>();

    static final String PREFIX = "job_event_p";

    static String name(long partition) {
        return PREFIX + partition;
    }

    void ensure(Connection c, Collection<Long> jobIds) throws SQLException {
        for (long jobId : jobIds) {
            long p = jobId / JOBS_PER_PARTITION;
            if (known.contains(p)) continue;
            create(c, p);
            known.add(p);
        }
    }

    /** Forgets the partitions seen so far (retention dropped one): the next {@link #ensure} checks again. */
    void forget() {
        known.clear();
    }

    /** The error of a row whose partition does not exist (dropped by retention after this node created it). */
    static boolean missing(SQLException e) {
        return "23514".equals(e.getSQLState())
                && e.getMessage() != null
                && e.getMessage().contains("no partition of relation");
    }

    /** The block of job ids a partition holds: [first, first + JOBS_PER_PARTITION). */
    static long firstJob(long partition) {
        return partition * JOBS_PER_PARTITION;
    }

    private static void create(Connection c, long p) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + name(p) + " PARTITION OF job_event FOR VALUES FROM ("
                    + p * JOBS_PER_PARTITION + ") TO (" + (p + 1) * JOBS_PER_PARTITION + ")");
        } catch (SQLException e) {
            // 42P07 duplicate_table / 23505 on pg_type: another node created it between our check and our create.
            if (!"42P07".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }
}
