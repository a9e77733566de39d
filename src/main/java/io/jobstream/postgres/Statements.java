package io.jobstream.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Short statements on a pooled connection, for the stores that are made of many small queries (auth, visibility):
 * borrow a connection, run one statement (or one transaction), map the rows, give the connection back. A failure
 * becomes an unchecked exception naming what was being done. Thread-safe; holds no connection between calls.
 */
final class Statements {
    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    @FunctionalInterface
    interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private final DataSource dataSource;

    Statements(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Runs {@code work} on a borrowed connection; {@code what} names it in the exception when it fails. */
    <T> T with(String what, Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
        }
    }

    <T> List<T> query(String what, String sql, RowMapper<T> mapper, Object... args) {
        return with(what, c -> {
            try (PreparedStatement ps = bind(c.prepareStatement(sql), args);
                    ResultSet rs = ps.executeQuery()) {
                List<T> out = new ArrayList<>();
                while (rs.next()) out.add(mapper.map(rs));
                return out;
            }
        });
    }

    int update(String what, String sql, Object... args) {
        return with(what, c -> {
            try (PreparedStatement ps = bind(c.prepareStatement(sql), args)) {
                return ps.executeUpdate();
            }
        });
    }

    /** The ids a statement answers in its first column, given one {@code bigint[]} parameter. */
    Set<Long> ids(String what, String sql, Collection<Long> ids) {
        return with(what, c -> {
            Set<Long> out = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setArray(1, c.createArrayOf("bigint", ids.toArray(Long[]::new)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(rs.getLong(1));
                }
            }
            return out;
        });
    }

    /** Binds {@code args} from parameter 1: instants as timestamps, nulls untyped, the rest as they are. */
    static PreparedStatement bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Instant t) ps.setTimestamp(i + 1, Timestamp.from(t));
            else if (a == null) ps.setNull(i + 1, Types.NULL);
            else ps.setObject(i + 1, a);
        }
        return ps;
    }

    static <T> Optional<T> first(List<T> rows) {
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    /** A {@code timestamptz} column as an instant, null for NULL. */
    static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
