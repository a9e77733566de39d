package io.jobstream.postgres;

import io.jobstream.auth.ListQuery;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL of a {@link ListQuery} for the users and teams lists: a WHERE clause with bound parameters (added to the
 * caller's list in order) and an ORDER BY over one of two columns the caller names. No text of the query string
 * enters the statement itself.
 */
final class ListFilters {
    private ListFilters() {}

    /** @param superuserColumn null when the table has none (teams) */
    static String where(ListQuery q, String idColumn, String nameColumn, String superuserColumn, List<Object> args) {
        List<String> conditions = new ArrayList<>();
        if (q.id() != null) {
            conditions.add(idColumn + " = ?");
            args.add(q.id());
        }
        if (q.name() != null) {
            conditions.add(nameColumn + " = ?");
            args.add(q.name());
        }
        if (q.search() != null) {
            // position(), not LIKE: the user's % and _ are plain characters
            conditions.add("position(lower(?) in lower(" + nameColumn + ")) > 0");
            args.add(q.search());
        }
        if (q.superuser() != null && superuserColumn != null) {
            conditions.add(superuserColumn + " = ?");
            args.add(q.superuser());
        }
        return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
    }

    static String orderBy(ListQuery q, String idColumn, String nameColumn) {
        String dir = q.descending() ? " DESC" : "";
        return q.byName() ? " ORDER BY " + nameColumn + dir + ", " + idColumn + dir : " ORDER BY " + idColumn + dir;
    }
}
