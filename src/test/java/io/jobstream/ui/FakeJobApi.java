package io.jobstream.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.websocket.WsContext;
import io.jobstream.event.Json;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the real REST API and websocket endpoint (written elsewhere and covered by the end-to-end
 * tests), just enough of AWX's shapes for the browser test: one job, its stored events, and a websocket that
 * greets, checks {@code xrftoken} against the {@code csrftoken} cookie, records subscriptions and lets the test
 * push messages.
 */
final class FakeJobApi {
    final ObjectNode job = Json.MAPPER.createObjectNode();
    /** Events "in the store", served by the job_events list. */
    final List<ObjectNode> stored = new CopyOnWriteArrayList<>();
    /** Subscribe messages received with a valid xrftoken, in order. */
    final List<JsonNode> subscriptions = new CopyOnWriteArrayList<>();

    final List<String> errors = new CopyOnWriteArrayList<>();
    private final Map<WsContext, JsonNode> sessions = new ConcurrentHashMap<>();

    FakeJobApi(long id, String name) {
        job.put("id", id)
                .put("name", name)
                .put("status", "running")
                .put("created", "2030-01-01T10:00:00.000000+00:00")
                .put("emitted_events", 0)
                .put("stored_events", 0)
                .put("event_processing_finished", false)
                .put("last_lag_ms", 12);
    }

    void register(RoutesConfig routes) {
        routes.get("/api/v2/jobs/", ctx -> ctx.json(Map.of("count", 1, "results", List.of(job))));
        routes.get("/api/v2/jobs/{id}/", ctx -> ctx.json(job));
        routes.get("/api/v2/jobs/{id}/job_events/", this::events);
        routes.ws("/websocket/", ws -> {
            ws.onConnect(ctx -> {
                sessions.put(ctx, Json.MAPPER.createObjectNode());
                ctx.send("{\"accept\": true, \"user\": 1}");
            });
            ws.onMessage(ctx -> subscribe(ctx, Json.MAPPER.readTree(ctx.message())));
            ws.onClose(ctx -> sessions.remove(ctx));
        });
    }

    /**
     * The job_events list with the filters the page uses (counter and line ranges, search, failed/changed, event__in,
     * host and task), {@code order_by=counter|-counter}, {@code limit}, and a {@code count} for {@code page_size}.
     */
    private void events(Context ctx) {
        int after = intParam(ctx, "counter__gt", 0);
        int before = intParam(ctx, "counter__lt", Integer.MAX_VALUE);
        int endAfter = intParam(ctx, "end_line__gt", -1);
        int startBefore = intParam(ctx, "start_line__lt", Integer.MAX_VALUE);
        int limit = intParam(ctx, "limit", intParam(ctx, "page_size", 25));
        String search = lower(ctx.queryParam("search"));
        String host = lower(ctx.queryParam("host_name__icontains"));
        String task = lower(ctx.queryParam("task__icontains"));
        List<String> events = ctx.queryParam("event__in") == null
                ? null
                : List.of(ctx.queryParam("event__in").split(","));
        boolean noEmpty = ctx.queryParamMap().containsKey("not__stdout");
        boolean failed = "true".equals(ctx.queryParam("failed"));
        boolean changed = "true".equals(ctx.queryParam("changed"));
        Comparator<ObjectNode> order =
                Comparator.comparingInt(e -> e.get("counter").asInt());
        if ("-counter".equals(ctx.queryParam("order_by"))) order = order.reversed();
        List<ObjectNode> matching = stored.stream()
                .filter(e ->
                        e.get("counter").asInt() > after && e.get("counter").asInt() < before)
                .filter(e -> e.path("end_line").asInt() > endAfter
                        && e.path("start_line").asInt() < startBefore)
                .filter(e -> search == null || lower(e.path("stdout").asText()).contains(search))
                .filter(e -> host == null || lower(e.path("host_name").asText()).contains(host))
                .filter(e -> task == null || lower(e.path("task").asText()).contains(task))
                .filter(e -> events == null || events.contains(e.path("event").asText()))
                .filter(e -> !noEmpty || !e.path("stdout").asText().isEmpty())
                .filter(e -> (!failed || e.path("failed").asBoolean())
                        && (!changed || e.path("changed").asBoolean()))
                .sorted(order)
                .toList();
        ArrayNode results = Json.MAPPER.createArrayNode();
        matching.stream().limit(limit).forEach(results::add);
        ctx.json(Map.of("count", matching.size(), "results", results));
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(java.util.Locale.ROOT);
    }

    private static int intParam(Context ctx, String name, int fallback) {
        String v = ctx.queryParam(name);
        return v == null ? fallback : Integer.parseInt(v);
    }

    private void subscribe(WsContext ctx, JsonNode message) {
        String cookie = ctx.cookie("csrftoken");
        if (cookie == null || !cookie.equals(message.path("xrftoken").asText())) {
            errors.add("bad xrftoken");
            ctx.send("{\"error\": \"access denied to channel\"}");
            return;
        }
        sessions.put(ctx, message.path("groups"));
        subscriptions.add(message);
        ctx.send("{\"groups_current\": [], \"groups_left\": [], \"groups_joined\": []}");
    }

    /** Sends an event to every session subscribed to its job's events group. */
    void push(ObjectNode event) {
        long jobId = event.get("job").asLong();
        sessions.forEach((ctx, groups) -> {
            for (JsonNode id : groups.path("job_events")) {
                if (id.asLong() == jobId) ctx.send(event.toString());
            }
        });
    }

    /** Sends a {@code jobs} group message (status_changed or summary) to every subscribed session. */
    void pushJobs(ObjectNode message) {
        sessions.forEach((ctx, groups) -> {
            if (groups.has("jobs")) ctx.send(message.toString());
        });
    }

    /** Drops every connection as a crashed node would (code 1011), so clients must reconnect. */
    void dropConnections() {
        sessions.keySet().forEach(ctx -> ctx.closeSession(1011, "test restart"));
    }

    int openSessions() {
        return sessions.size();
    }
}
