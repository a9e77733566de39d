package io.jobstream.postgres;

import io.jobstream.api.EventQuery;
import io.jobstream.api.EventQuery.Filter;
import io.jobstream.api.EventQuery.Sort;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the WHERE and ORDER BY of an event list from an {@link EventQuery}. Column names come only from the
 * closed {@link EventQuery.Field} enum and every value is a bound parameter, so nothing a client sends is ever
 * spliced into SQL. Every query starts with {@code job_id = ?}, which lets PostgreSQL prune to the job's
 * partition and use the (job_id, counter) key.
 */
final class EventSql {
    final String where;
    private final List<Object> params;

    private EventSql(String where, List<Object> params) {
        this.where = where;
        this.params = params;
    }

    static EventSql where(long jobId, List<Filter> filters) {
        StringBuilder sql = new StringBuilder("job_id = ?");
        List<Object> params = new ArrayList<>();
        params.add(jobId);
        for (Filter f : filters) {
            sql.append(" AND ");
            if (f.negated()) sql.append("NOT ");
            sql.append('(').append(condition(f, params)).append(')');
        }
        return new EventSql(sql.toString(), params);
    }

    private static String condition(Filter f, List<Object> params) {
        String col = f.field().column();
        switch (f.lookup()) {
            case IN:
                params.add(f.values());
                return col + " = ANY (?)";
            case EXACT:
                params.add(f.value());
                return col + " = ?";
            case IEXACT:
                params.add(f.value());
                return "lower(" + col + ") = lower(?)";
            case GT:
            case GTE:
            case LT:
            case LTE:
                params.add(f.value());
                return col + " " + operator(f.lookup()) + " ?";
            default:
                params.add(likePattern(f.lookup(), (String) f.value()));
                boolean insensitive = f.lookup().name().startsWith("I");
                return col + (insensitive ? " ILIKE ?" : " LIKE ?");
        }
    }

    private static String operator(EventQuery.Lookup lookup) {
        return switch (lookup) {
            case GT -> ">";
            case GTE -> ">=";
            case LT -> "<";
            default -> "<=";
        };
    }

    /** contains/startswith/endswith as a LIKE pattern, with the client's % _ and \ taken literally. */
    static String likePattern(EventQuery.Lookup lookup, String value) {
        String v = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
        return switch (lookup) {
            case CONTAINS, ICONTAINS -> "%" + v + "%";
            case STARTSWITH, ISTARTSWITH -> v + "%";
            default -> "%" + v;
        };
    }

    static String orderBy(List<Sort> sort) {
        StringBuilder sql = new StringBuilder(" ORDER BY ");
        for (int i = 0; i < sort.size(); i++) {
            if (i > 0) sql.append(", ");
            sql.append(sort.get(i).field().column()).append(sort.get(i).descending() ? " DESC" : "");
        }
        return sql.toString();
    }

    /** Binds the WHERE parameters from index 1 on; returns the next free index. */
    int bind(Connection c, PreparedStatement ps, int from) throws SQLException {
        int i = from;
        for (Object p : params) {
            if (p instanceof List<?> list) {
                ps.setArray(i++, array(c, list));
            } else if (p instanceof Instant t) {
                ps.setObject(i++, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
            } else {
                ps.setObject(i++, p);
            }
        }
        return i;
    }

    private static java.sql.Array array(Connection c, List<?> values) throws SQLException {
        Object first = values.get(0);
        String type = first instanceof Long ? "bigint" : first instanceof Boolean ? "boolean" : "text";
        return c.createArrayOf(type, values.toArray());
    }
}
