package io.jobstream.api;

import io.javalin.http.Context;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Requests;
import java.util.List;
import java.util.Set;

/**
 * {@code GET /api/v2/job_events/?host_name=&changed=&failed=&event=} (SPEC §11): events of every job the caller
 * may see, newest first (highest job id, then highest counter), in AWX's event shape with
 * {@code summary_fields.job}. Count-free: {@code next} carries a keyset position ({@code before=JOB:COUNTER}), so
 * a page costs the same however deep it is and however many events match. Called on request threads.
 */
final class SearchView {
    private static final Set<String> PARAMS =
            Set.of("host_name", "changed", "failed", "event", "page_size", "before", "no_truncate");

    private final EventSearch search;
    private final JobReader jobs;
    private final JobAccess access;

    SearchView(EventSearch search, JobReader jobs, JobAccess access) {
        this.search = search;
        this.jobs = jobs;
        this.access = access;
    }

    void handle(Context ctx) {
        StrictParams p = new StrictParams(ctx.queryParamMap(), PARAMS, "the job event search");
        int size = p.pageSize(QueryParams.DEFAULT_PAGE_SIZE);
        var criteria = new EventSearch.Criteria(
                p.word("host_name", 1024), p.bool("changed"), p.bool("failed"), p.word("event", 100));
        EventSearch.Position before = position(p.text("before"));
        Boolean noTruncate = p.bool("no_truncate");
        boolean truncate = noTruncate == null || !noTruncate;
        Long visibleTo = access.listFilter(Requests.principal(ctx));
        EventSearch.Result result = search.search(criteria, visibleTo, before, size);
        List<EventRow> rows = result.rows();
        java.util.Map<Long, JobView> byJob = new java.util.HashMap<>();
        for (EventRow e : rows)
            byJob.computeIfAbsent(e.jobId(), id -> jobs.find(id).orElse(null));
        EventSearch.Position last = result.next();
        String nextLink =
                last == null ? null : withBefore(ctx.path(), ctx.queryString(), last.jobId() + ":" + last.counter());
        EventsView.json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            if (nextLink == null) g.writeNullField("next");
            else g.writeStringField("next", nextLink);
            g.writeNullField("previous");
            g.writeArrayFieldStart("results");
            for (EventRow e : rows) ApiJson.writeEvent(g, e, byJob.get(e.jobId()), truncate);
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    static EventSearch.Position position(String text) {
        if (text == null) return null;
        int colon = text.indexOf(':');
        try {
            if (colon < 0) throw new NumberFormatException();
            long job = Long.parseLong(text.substring(0, colon));
            int counter = Integer.parseInt(text.substring(colon + 1));
            if (job < 1 || counter < 1) throw new NumberFormatException();
            return new EventSearch.Position(job, counter);
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("before must be JOB:COUNTER (positive integers), as in the next link; was '"
                    + StrictParams.shorten(text) + "'");
        }
    }

    private static String withBefore(String path, String query, String position) {
        StringBuilder q = new StringBuilder();
        if (query != null) {
            for (String part : query.split("&")) {
                if (part.isEmpty() || part.equals("before") || part.startsWith("before=")) continue;
                q.append(part).append('&');
            }
        }
        return path + "?" + q + "before=" + position;
    }
}
