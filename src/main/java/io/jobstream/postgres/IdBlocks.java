package io.jobstream.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Hands out event row ids from blocks of 1000 taken from {@code job_event_id_seq} (which increments by 1000),
 * so a COPY can carry its ids and the websocket message can name its row without {@code RETURNING}. Ids are unique
 * across nodes and increase per node; gaps (unused ids of a block) are harmless. A batch takes every block it lacks
 * in one query: each round trip to PostgreSQL costs the receiver a wake-up of the backend, which on a busy machine
 * is milliseconds (a batch of 2,000 used to take two). Receiver thread only.
 */
final class IdBlocks {
    static final int BLOCK = 1000;
    private long next;
    private long end;
    /** Blocks fetched ahead for the current batch and not yet started; their first ids, in sequence order. */
    private long[] spare = new long[0];

    private int spareAt;

    /** Fills {@code ids} with fresh row ids, asking the sequence at most once. */
    void fill(Connection c, long[] ids) throws SQLException {
        long available = end - next + (long) (spare.length - spareAt) * BLOCK;
        if (ids.length > available) fetch(c, (int) ((ids.length - available + BLOCK - 1) / BLOCK));
        for (int k = 0; k < ids.length; k++) {
            if (next == end) {
                next = spare[spareAt++];
                end = next + BLOCK;
            }
            ids[k] = next++;
        }
    }

    private void fetch(Connection c, int blocks) throws SQLException {
        long[] more = new long[spare.length - spareAt + blocks];
        System.arraycopy(spare, spareAt, more, 0, spare.length - spareAt);
        int at = spare.length - spareAt;
        try (PreparedStatement ps =
                c.prepareStatement("SELECT nextval('job_event_id_seq') FROM generate_series(1, ?) ORDER BY 1")) {
            ps.setInt(1, blocks);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) more[at++] = rs.getLong(1);
            }
        }
        if (at != more.length) throw new SQLException("job_event_id_seq gave " + at + " of " + more.length + " blocks");
        spare = more;
        spareAt = 0;
    }
}
