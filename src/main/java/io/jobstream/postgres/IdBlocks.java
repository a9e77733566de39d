package io.jobstream.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Hands out event row ids from blocks of 1000 taken from {@code job_event_id_seq} (which increments by 1000),
 * so a COPY can carry its ids and the websocket message can name its row without {@code RETURNING}. Ids are unique
 * across nodes and increase per node; gaps (unused ids of a block) are harmless. Receiver thread only.
 */
final class IdBlocks {
    static final int BLOCK = 1000;
    private long next;
    private long end;

    long next(Connection c) throws SQLException {
        if (next == end) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT nextval('job_event_id_seq')")) {
                rs.next();
                next = rs.getLong(1);
                end = next + BLOCK;
            }
        }
        return next++;
    }
}
