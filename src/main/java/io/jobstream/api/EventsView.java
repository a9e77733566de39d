package io.jobstream.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.javalin.http.Context;
import io.jobstream.api.EventQuery.Field;
import io.jobstream.api.EventQuery.Filter;
import java.io.IOException;
import java.util.Map;

/**
 * The job event endpoints (reference §7.1): the per-job list, one event, its children, and children_summary.
 * Lists are at most 200 rows, so their JSON is built in memory; the event rows come from {@link EventReader}
 * already filtered, ordered and windowed by the database. Called on Jetty's request threads.
 */
final class EventsView {
    /** AWX's MAX_UI_JOB_EVENTS, sent as {@code X-UI-Max-Events} on the per-job list. */
    static final int MAX_UI_EVENTS = 4000;

    /** Throws (403) when the request's caller may not see the job. */
    interface Check {
        void mayView(Context ctx, long jobId);
    }

    private final JobReader jobs;
    private final EventReader events;
    private final Check check;

    EventsView(JobReader jobs, EventReader events, Check check) {
        this.jobs = jobs;
        this.events = events;
        this.check = check;
    }

    void jobEvents(Context ctx, JobView job) {
        EventQueryParser.Request req = EventQueryParser.parse(ctx.queryParamMap());
        ctx.header("X-UI-Max-Events", Integer.toString(MAX_UI_EVENTS));
        writeList(ctx, job, req, events.list(job.id(), req.query()));
    }

    void event(Context ctx, long eventId) {
        EventRow e = events.find(eventId).orElseThrow(ApiError::notFound);
        check.mayView(ctx, e.jobId());
        JobView job = jobs.find(e.jobId()).orElse(null);
        json(ctx, ApiJson.bytes(g -> ApiJson.writeEvent(g, e, job, false)));
    }

    /** Events of the same job whose parent_uuid is this event's uuid; an event without uuid has none. */
    void children(Context ctx, long eventId) {
        EventRow parent = events.find(eventId).orElseThrow(ApiError::notFound);
        check.mayView(ctx, parent.jobId());
        JobView job = jobs.find(parent.jobId()).orElse(null);
        EventQueryParser.Request req = EventQueryParser.parse(ctx.queryParamMap());
        Page<EventRow> page = parent.uuid().isEmpty()
                ? new Page<>(java.util.List.of(), req.query().withCount() ? 0L : null)
                : events.list(parent.jobId(), req.query().and(Filter.exact(Field.PARENT_UUID, parent.uuid())));
        writeList(ctx, job, req, page);
    }

    void childrenSummary(Context ctx, JobView job) {
        ChildrenSummary summary = new ChildrenSummary();
        if (job.eventProcessingFinished()) events.visitTree(job.id(), summary);
        boolean finished = job.eventProcessingFinished();
        Map<Integer, int[]> children = finished ? summary.children() : Map.of();
        Map<Integer, String> nested = finished ? summary.metaEventNestedUuid() : Map.of();
        json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("children_summary");
            for (Map.Entry<Integer, int[]> c : children.entrySet()) {
                g.writeObjectFieldStart(Integer.toString(c.getKey()));
                g.writeNumberField("rowNumber", c.getValue()[0]);
                g.writeNumberField("numChildren", c.getValue()[1]);
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeObjectFieldStart("meta_event_nested_uuid");
            for (Map.Entry<Integer, String> n : nested.entrySet()) {
                g.writeStringField(Integer.toString(n.getKey()), n.getValue());
            }
            g.writeEndObject();
            g.writeBooleanField("event_processing_finished", finished);
            g.writeBooleanField("is_tree", summary.isTree());
            g.writeEndObject();
        }));
    }

    private void writeList(Context ctx, JobView job, EventQueryParser.Request req, Page<EventRow> page) {
        EventQuery q = req.query();
        if (req.shape() != EventQueryParser.Shape.LIMIT
                && req.page() > 1
                && page.rows().isEmpty()) {
            throw ApiError.invalidPage(); // DRF: a page past the end is a 404
        }
        boolean truncate = !req.noTruncate();
        json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            if (req.shape() == EventQueryParser.Shape.PAGED) {
                g.writeNumberField("count", page.count());
                writeLink(
                        g, "next", PageLinks.next(ctx.path(), ctx.queryString(), req.page(), q.limit(), page.count()));
                writeLink(g, "previous", PageLinks.previous(ctx.path(), ctx.queryString(), req.page()));
            }
            g.writeArrayFieldStart("results");
            for (EventRow e : page.rows()) ApiJson.writeEvent(g, e, job, truncate);
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    private static void writeLink(JsonGenerator g, String name, String link) throws IOException {
        if (link == null) g.writeNullField(name);
        else g.writeStringField(name, link);
    }

    static void json(Context ctx, byte[] body) {
        ctx.contentType("application/json").result(body);
    }
}
