package io.jobstream.auth;

import io.javalin.http.Context;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The filters and order of the users and teams lists, the ones awxkit sends: {@code ?id=}, the natural key
 * ({@code ?username=} for users, {@code ?name=} for teams: how {@code awx users get alice} finds an id),
 * {@code ?search=} (the name contains it, case-insensitively), {@code ?is_superuser=} (users), {@code ?order_by=}
 * ({@code id} or the name, {@code -} for descending). Values reach SQL only as bound parameters; the order is one of
 * two column names chosen here.
 *
 * @param id        null: any
 * @param name      exact username or team name; null: any
 * @param search    substring of the name; null: any
 * @param superuser users only; null: any
 * @param byName    order by the name instead of the id
 */
public record ListQuery(Long id, String name, String search, Boolean superuser, boolean byName, boolean descending) {
    public static final ListQuery ALL = new ListQuery(null, null, null, null, false, false);

    private static final Set<String> PAGING = Set.of("page", "page_size", "format", "count_disabled");
    private static final Set<String> TRUE = Set.of("true", "t", "yes", "y", "on", "1");
    private static final Set<String> FALSE = Set.of("false", "f", "no", "n", "off", "0");

    /**
     * From the request's query; null after answering 400 with the reason (an unknown filter or a bad value, as AWX
     * refuses filters on fields that do not exist rather than ignoring them).
     *
     * @param nameField {@code username} or {@code name}
     */
    static ListQuery of(Context ctx, String nameField, boolean users) {
        Long id = null;
        String name = null;
        String search = null;
        Boolean superuser = null;
        boolean byName = false;
        boolean descending = false;
        for (Map.Entry<String, List<String>> e : ctx.queryParamMap().entrySet()) {
            String key = e.getKey();
            String value = e.getValue().isEmpty() ? "" : e.getValue().get(0);
            if (PAGING.contains(key)) continue;
            if (value.indexOf('\0') >= 0 || value.length() > UserLimits.MAX_USERNAME * 4) {
                return refuse(ctx, key + ": not a valid value");
            }
            if (key.equals("id")) {
                try {
                    id = Long.parseLong(value.trim());
                } catch (NumberFormatException ex) {
                    return refuse(ctx, "id: '" + value + "' is not an integer");
                }
            } else if (key.equals(nameField)) {
                name = value;
            } else if (key.equals("search") || key.equals(nameField + "__icontains")) {
                search = value;
            } else if (users && key.equals("is_superuser")) {
                String v = value.trim().toLowerCase(Locale.ROOT);
                if (!TRUE.contains(v) && !FALSE.contains(v))
                    return refuse(ctx, "is_superuser: '" + value + "' is not a boolean (true or false)");
                superuser = TRUE.contains(v);
            } else if (key.equals("order_by") || key.equals("order")) {
                String field = value.trim();
                descending = field.startsWith("-");
                if (descending) field = field.substring(1);
                if (field.equals(nameField)) byName = true;
                else if (!field.equals("id") && !field.equals("pk"))
                    return refuse(ctx, "cannot order by '" + field + "' (id or " + nameField + ")");
            } else {
                return refuse(ctx, "unknown filter '" + key + "'");
            }
        }
        return new ListQuery(id, name, search, superuser, byName, descending);
    }

    private static ListQuery refuse(Context ctx, String detail) {
        Requests.detail(ctx, 400, detail);
        return null;
    }
}
