package io.jobstream.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The filters and order of {@code GET /api/v2/jobs/}, the ones AWX clients send: {@code status}/{@code status__in},
 * {@code id}/{@code id__in} ({@code v2.jobs.get(id=N)}), {@code name} ({@code awx jobs get NAME}),
 * {@code name__icontains}, {@code playbook}, {@code failed}, {@code search} (name or playbook contains it, any case)
 * and {@code order_by} over a fixed set of columns. Anything else is a 400 with the reason, as AWX refuses filters on
 * fields it does not have; values reach SQL only as bound parameters, the order only as one of {@link #ORDERABLE}.
 *
 * @param statuses empty: any
 * @param ids      empty: any
 * @param name     exact; null: any
 * @param contains substring of the name, any case; null: any
 * @param search   substring of the name or the playbook, any case; null: any
 * @param order    a column of {@link #ORDERABLE}
 */
public record JobQuery(
        List<String> statuses,
        List<Long> ids,
        String name,
        String contains,
        String search,
        String playbook,
        Boolean failed,
        String order,
        boolean descending) {
    public static final Set<String> STATUSES =
            Set.of("new", "pending", "waiting", "running", "successful", "failed", "error", "canceled");
    /** Columns a list may be ordered by (the job table's names, which are AWX's). */
    public static final Set<String> ORDERABLE =
            Set.of("id", "name", "status", "created", "modified", "started", "finished", "playbook");
    /** Newest first, as before any order was asked for. */
    public static final JobQuery ALL = new JobQuery(List.of(), List.of(), null, null, null, null, null, "id", true);

    private static final Set<String> PAGING = Set.of("page", "page_size", "count_disabled", "format");
    private static final int MAX_TEXT = 1024;

    public JobQuery {
        statuses = List.copyOf(statuses);
        ids = List.copyOf(ids);
        if (!ORDERABLE.contains(order)) throw new IllegalArgumentException("not orderable: " + order);
    }

    static JobQuery parse(Map<String, List<String>> params) {
        List<String> statuses = new ArrayList<>();
        List<Long> ids = new ArrayList<>();
        String name = null, contains = null, search = null, playbook = null, order = "id";
        Boolean failed = null;
        boolean descending = true;
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String key = e.getKey();
            if (PAGING.contains(key)) continue;
            for (String value : e.getValue()) {
                if (value.indexOf('\0') >= 0 || value.length() > MAX_TEXT)
                    throw ApiError.badRequest(key + ": not a valid value");
                switch (key) {
                    case "status", "status__in" -> {
                        for (String s : value.split(",")) {
                            if (!STATUSES.contains(s))
                                throw ApiError.badRequest(key + ": '" + s + "' is not a job status");
                            statuses.add(s);
                        }
                    }
                    case "id", "id__in" -> {
                        for (String s : value.split(",")) ids.add(integer(key, s));
                    }
                    case "name" -> name = value;
                    case "name__icontains" -> contains = value;
                    case "search" -> search = value;
                    case "playbook" -> playbook = value;
                    case "failed" -> {
                        failed = QueryParams.bool(value);
                        if (failed == null)
                            throw ApiError.badRequest("failed: '" + value + "' is not a boolean (true or false)");
                    }
                    case "order_by", "order" -> {
                        String field = value.trim();
                        descending = field.startsWith("-");
                        order = descending ? field.substring(1) : field;
                        if (order.equals("pk")) order = "id";
                        if (!ORDERABLE.contains(order))
                            throw ApiError.badRequest(
                                    "cannot order jobs by '" + order + "' (one of " + ORDERABLE + ")");
                    }
                    default -> throw ApiError.badRequest("unknown filter '" + key + "' for jobs");
                }
            }
        }
        return new JobQuery(statuses, ids, name, contains, search, playbook, failed, order, descending);
    }

    private static long integer(String key, String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(key + ": '" + text + "' is not an integer");
        }
    }
}
