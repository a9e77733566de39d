package io.jobstream.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;

/**
 * The one place that allocates job ids on the server side (launches, ingest tokens made without a job): a fresh
 * row with the next id of {@code job_id_seq}.
 *
 * <p>Why not a bounded retry: trusted writers (admins, emitter tokens, AWX-style {@code callback_tasks}) number their
 * own jobs, so the sequence may run into ids already used. A scan of N attempts lets 1,000 used ids in a row stop
 * every launch. Instead, when the id the sequence gave is taken, the sequence jumps past the end of that run of used
 * ids in one query (found through the primary key), so each retry makes progress whatever the ids in use; retries
 * repeat only when another node raced for the same ids.
 */
final class JobIds {
    /** AWX's ids are 32-bit (Django AutoField); ours keep to that so AWX tools can hold them. */
    static final long MAX_ID = Integer.MAX_VALUE;

    private static final int RACES = 50;

    private JobIds() {}

    /**
     * Inserts a job row with a fresh id; returns the id. {@code name} null: "job N". Runs in the connection's current
     * transaction mode.
     */
    static long allocate(Connection c, String name, String playbook, String status, boolean launched, Long ownerId)
            throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO job (id, name, playbook, status, launched,"
                        + " owner_id) VALUES (nextval('job_id_seq'), COALESCE(?, 'job ' || currval('job_id_seq')), ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id")) {
            insert.setString(2, playbook);
            insert.setString(3, status);
            insert.setBoolean(4, launched);
            if (ownerId == null) insert.setNull(5, Types.BIGINT);
            else insert.setLong(5, ownerId);
            for (int attempt = 0; attempt < RACES; attempt++) {
                insert.setString(1, name);
                try (ResultSet rs = insert.executeQuery()) {
                    if (rs.next()) {
                        long id = rs.getLong(1);
                        if (id > MAX_ID) throw new IllegalStateException("job ids exhausted (above " + MAX_ID + ")");
                        return id;
                    }
                }
                skipUsedRun(c);
            }
        }
        throw new IllegalStateException("no free job id: " + RACES + " races with other nodes in a row");
    }

    /** Moves the sequence to the last id of the run of used ids that starts at its current value. */
    private static void skipUsedRun(Connection c) throws SQLException {
        // the run's end: the first used id >= current whose successor is free; one index probe per id of the run
        try (PreparedStatement ps = c.prepareStatement("SELECT setval('job_id_seq', GREATEST((SELECT last_value FROM"
                + " job_id_seq), (SELECT min(j.id) FROM job j WHERE j.id >= (SELECT last_value FROM job_id_seq)"
                + " AND NOT EXISTS (SELECT 1 FROM job k WHERE k.id = j.id + 1))))")) {
            ps.execute();
        }
    }
}
