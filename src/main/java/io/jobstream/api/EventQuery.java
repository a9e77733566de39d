package io.jobstream.api;

import java.util.List;
import java.util.Objects;

/**
 * A validated request for one job's events: filters, order and window, built by {@link EventQueryParser}.
 * Field names and lookups are closed enums, so a reader can map them to columns without re-validating.
 *
 * @param sort         at least one key; readers add nothing
 * @param limit        rows to return (1..200)
 * @param withCount    whether the total number of matching rows is wanted (a COUNT query)
 * @param stdoutPrefix when &gt; 0, readers may return only this many leading characters of {@code stdout}
 *                     for events not of type {@code playbook_on_*} (the list truncation needs no more)
 */
public record EventQuery(
        List<Filter> filters, List<Sort> sort, long offset, int limit, boolean withCount, int stdoutPrefix) {

    public EventQuery {
        filters = List.copyOf(filters);
        sort = List.copyOf(sort);
        if (sort.isEmpty()) throw new IllegalArgumentException("sort must name at least one field");
        if (offset < 0) throw new IllegalArgumentException("offset must be >= 0, was " + offset);
        if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }

    /** The same query with one more filter (used for {@code children/}). */
    public EventQuery and(Filter filter) {
        List<Filter> more = new java.util.ArrayList<>(filters);
        more.add(filter);
        return new EventQuery(more, sort, offset, limit, withCount, stdoutPrefix);
    }

    public enum Type {
        INTEGER,
        BOOLEAN,
        TEXT,
        TIMESTAMP
    }

    /** The filterable and sortable event fields; each name is also the column name. */
    public enum Field {
        ID(Type.INTEGER),
        COUNTER(Type.INTEGER),
        START_LINE(Type.INTEGER),
        END_LINE(Type.INTEGER),
        VERBOSITY(Type.INTEGER),
        FAILED(Type.BOOLEAN),
        CHANGED(Type.BOOLEAN),
        UUID(Type.TEXT),
        PARENT_UUID(Type.TEXT),
        EVENT(Type.TEXT),
        HOST_NAME(Type.TEXT),
        PLAYBOOK(Type.TEXT),
        PLAY(Type.TEXT),
        ROLE(Type.TEXT),
        TASK(Type.TEXT),
        STDOUT(Type.TEXT),
        CREATED(Type.TIMESTAMP),
        MODIFIED(Type.TIMESTAMP);

        private final Type type;

        Field(Type type) {
            this.type = type;
        }

        public Type type() {
            return type;
        }

        /** The AWX field name, which is also the column name. */
        public String column() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Django's lookups that the event lists honour. */
    public enum Lookup {
        EXACT,
        IEXACT,
        CONTAINS,
        ICONTAINS,
        STARTSWITH,
        ISTARTSWITH,
        ENDSWITH,
        IENDSWITH,
        GT,
        GTE,
        LT,
        LTE,
        IN;

        public boolean textOnly() {
            return this != EXACT && this != IN && !comparison();
        }

        public boolean comparison() {
            return this == GT || this == GTE || this == LT || this == LTE;
        }
    }

    /**
     * One condition; {@code values} holds one value, or several for {@link Lookup#IN}, already converted to the
     * field's Java type (Long, Boolean, String or java.time.Instant).
     */
    public record Filter(Field field, Lookup lookup, boolean negated, List<Object> values) {
        public Filter {
            Objects.requireNonNull(field, "field");
            Objects.requireNonNull(lookup, "lookup");
            values = List.copyOf(values);
            if (values.isEmpty()) throw new IllegalArgumentException("a filter needs a value");
        }

        public static Filter exact(Field field, Object value) {
            return new Filter(field, Lookup.EXACT, false, List.of(value));
        }

        public Object value() {
            return values.get(0);
        }
    }

    public record Sort(Field field, boolean descending) {}
}
