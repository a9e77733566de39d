package io.jobstream.api;

import io.jobstream.api.EventQuery.Field;
import io.jobstream.api.EventQuery.Filter;
import io.jobstream.api.EventQuery.Lookup;
import io.jobstream.api.EventQuery.Sort;
import io.jobstream.event.Timestamps;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns the query string of an event list into an {@link EventQuery} and a response shape, the way AWX's
 * filter, ordering and pagination backends read it (reference §7.1). Everything unknown or malformed is a 400
 * with a reason, so no text from the query string ever reaches SQL except as a bound value.
 */
final class EventQueryParser {
    /** AWX's EVENT_STDOUT_MAX_BYTES_DISPLAY: list views show at most this many characters of stdout. */
    static final int STDOUT_DISPLAY_CHARS = 1024;

    /** Parameters that are not field filters (AWX's reserved names, plus {@code offset} of the limit paginator). */
    private static final Set<String> RESERVED = Set.of(
            "page",
            "page_size",
            "format",
            "order",
            "order_by",
            "search",
            "type",
            "host_filter",
            "count_disabled",
            "no_truncate",
            "limit",
            "offset",
            "validate");

    private static final Map<String, Field> FIELDS = new HashMap<>();

    static {
        for (Field f : Field.values()) FIELDS.put(f.column(), f);
    }

    /** How the list answers: AWX's page paginator, with or without count, or the count-free limit paginator. */
    enum Shape {
        PAGED,
        COUNT_DISABLED,
        LIMIT
    }

    record Request(EventQuery query, Shape shape, int page, boolean noTruncate) {}

    private EventQueryParser() {}

    /**
     * The default order is AWX's {@code start_line}, served as {@code counter}: every emitter writes start_line
     * in counter order, and counter is the primary key's second column, so this needs no sort of the job's rows.
     */
    static Request parse(Map<String, List<String>> params) {
        List<Filter> filters = filters(params);
        List<Sort> sort = sort(params);
        boolean noTruncate = QueryParams.flag(params, "no_truncate");
        int prefix = noTruncate ? 0 : STDOUT_DISPLAY_CHARS + 1; // one more shows whether it was longer
        if (params.containsKey("limit")) {
            int limit = QueryParams.pageSize(QueryParams.first(params, "limit"));
            long offset = QueryParams.offset(QueryParams.first(params, "offset"));
            return new Request(new EventQuery(filters, sort, offset, limit, false, prefix), Shape.LIMIT, 1, noTruncate);
        }
        int page = QueryParams.page(QueryParams.first(params, "page"));
        int size = QueryParams.pageSize(QueryParams.first(params, "page_size"));
        boolean countDisabled = QueryParams.flag(params, "count_disabled");
        EventQuery q = new EventQuery(filters, sort, (long) (page - 1) * size, size, !countDisabled, prefix);
        return new Request(q, countDisabled ? Shape.COUNT_DISABLED : Shape.PAGED, page, noTruncate);
    }

    static List<Filter> filters(Map<String, List<String>> params) {
        List<Filter> filters = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String key = e.getKey();
            for (String value : e.getValue()) {
                if (key.equals("search")) {
                    filters.add(new Filter(Field.STDOUT, Lookup.ICONTAINS, false, List.of(text("search", value))));
                } else if (!RESERVED.contains(key)) {
                    filters.add(filter(key, value));
                }
            }
        }
        return filters;
    }

    static Filter filter(String key, String value) {
        List<String> parts = new ArrayList<>(Arrays.asList(key.split("__", -1)));
        boolean negated = false;
        if (parts.get(0).equals("or") || parts.get(0).equals("chain")) {
            throw ApiError.badRequest("'" + parts.get(0) + "__' filters are not supported: " + key);
        }
        if (parts.get(0).equals("not")) {
            negated = true;
            parts.remove(0);
        }
        if (parts.isEmpty() || parts.size() > 2) throw ApiError.badRequest("unknown filter '" + key + "'");
        Field field = FIELDS.get(parts.get(0));
        if (field == null) throw ApiError.badRequest("unknown field '" + parts.get(0) + "' in filter '" + key + "'");
        Lookup lookup = parts.size() == 1 ? Lookup.EXACT : lookup(key, parts.get(1));
        checkLookupFits(key, field, lookup);
        List<Object> values = new ArrayList<>();
        if (lookup == Lookup.IN) {
            for (String v : value.split(",", -1)) values.add(convert(key, field, v));
        } else {
            values.add(convert(key, field, value));
        }
        return new Filter(field, lookup, negated, values);
    }

    private static Lookup lookup(String key, String name) {
        try {
            return Lookup.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("unsupported lookup '" + name + "' in filter '" + key + "'");
        }
    }

    private static void checkLookupFits(String key, Field field, Lookup lookup) {
        boolean ok = switch (field.type()) {
            case TEXT -> true;
            case INTEGER -> !lookup.textOnly();
            case TIMESTAMP -> lookup == Lookup.EXACT || lookup.comparison();
            case BOOLEAN -> lookup == Lookup.EXACT;
        };
        if (!ok) {
            throw ApiError.badRequest("lookup '" + lookup.name().toLowerCase(Locale.ROOT) + "' does not apply to "
                    + field.type().name().toLowerCase(Locale.ROOT) + " field '" + field.column() + "' in filter '"
                    + key + "'");
        }
    }

    private static Object convert(String key, Field field, String raw) {
        switch (field.type()) {
            case INTEGER:
                try {
                    return Long.parseLong(raw.trim());
                } catch (NumberFormatException e) {
                    throw ApiError.badRequest(key + ": '" + raw + "' is not an integer");
                }
            case BOOLEAN:
                Boolean b = QueryParams.bool(raw);
                if (b == null) throw ApiError.badRequest(key + ": '" + raw + "' is not a boolean (true or false)");
                return b;
            case TIMESTAMP:
                try {
                    return Timestamps.parse(raw);
                } catch (DateTimeParseException e) {
                    throw ApiError.badRequest(key + ": '" + raw + "' is not an ISO-8601 timestamp");
                }
            default:
                return text(key, raw);
        }
    }

    private static String text(String key, String raw) {
        if (raw.indexOf('\0') >= 0) throw ApiError.badRequest(key + ": NUL characters are not allowed");
        return raw;
    }

    static List<Sort> sort(Map<String, List<String>> params) {
        String spec = QueryParams.first(params, "order_by");
        if (spec == null) spec = QueryParams.first(params, "order");
        List<Sort> sort = new ArrayList<>();
        if (spec != null) {
            for (String item : spec.split(",")) {
                String name = item.trim();
                if (name.isEmpty()) continue;
                boolean desc = name.startsWith("-");
                if (desc) name = name.substring(1);
                Field f = FIELDS.get(name);
                if (f == null || f == Field.STDOUT) throw ApiError.badRequest("cannot order by '" + name + "'");
                sort.add(new Sort(f, desc));
            }
        }
        if (sort.isEmpty()) return List.of(new Sort(Field.COUNTER, false));
        // counter is unique within a job: a tiebreak that keeps pages stable
        if (sort.stream().noneMatch(s -> s.field() == Field.COUNTER)) {
            sort.add(new Sort(Field.COUNTER, sort.get(0).descending()));
        }
        return sort;
    }
}
