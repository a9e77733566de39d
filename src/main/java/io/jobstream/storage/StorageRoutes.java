package io.jobstream.storage;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.Requests;
import io.jobstream.config.ConfigLoader;
import io.jobstream.event.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin routes behind {@code ./jobstream storage} and {@code ./jobstream cleanup}:
 *
 * <ul>
 *   <li>{@code GET /api/v2/storage/}: a fresh storage report (JSON).
 *   <li>{@code POST /api/v2/storage/cleanup/} with {@code {"events_older_than": "30d", "jobs_older_than": "365d",
 *       "dry_run": true}}: runs a cleanup now and streams NDJSON as it goes, {@code {"progress": "..."}} lines then
 *       one {@code {"result": {...}}}; 409 when another cleanup holds the lock, 400 for a body it cannot take.
 * </ul>
 *
 * The cleanup runs on the request's thread; a client that goes away does not stop it (the rest of its lines are
 * dropped), so a cleanup is never left halfway by a closed terminal.
 */
public final class StorageRoutes {
    private static final Logger log = LoggerFactory.getLogger(StorageRoutes.class);
    public static final String REPORT = "/api/v2/storage/";
    public static final String CLEANUP = "/api/v2/storage/cleanup/";

    private final RetentionSchedule retention;

    public StorageRoutes(RetentionSchedule retention) {
        this.retention = retention;
    }

    public void register(RoutesConfig routes) {
        routes.get(REPORT, this::report, Access.ADMIN);
        routes.post(CLEANUP, this::cleanup, Access.ADMIN);
    }

    private void report(Context ctx) throws IOException {
        if (!Requests.principal(ctx).superuser()) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        ctx.contentType("application/json")
                .result(Json.MAPPER.writeValueAsBytes(retention.report().toMap()));
    }

    private void cleanup(Context ctx) {
        if (!Requests.principal(ctx).superuser()) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        CleanupRequest request;
        try {
            request = request(ctx.bodyAsBytes());
        } catch (IllegalArgumentException e) {
            Requests.detail(ctx, 400, e.getMessage());
            return;
        }
        Lines lines = new Lines(ctx);
        Optional<CleanupResult> result = retention.clean(request, p -> lines.write(Map.of("progress", p)));
        if (result.isEmpty()) {
            Requests.detail(ctx, 409, "Another cleanup is running (on this node or another); try again when it ends.");
            return;
        }
        lines.write(Map.of("result", result.get().toMap()));
        lines.close();
    }

    /** The request body: which cutoffs, and whether only to say what would go. */
    static CleanupRequest request(byte[] body) {
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            json = null;
        }
        if (json == null || !json.isObject())
            throw new IllegalArgumentException("JSON parse error - expected a JSON"
                    + " object such as {\"events_older_than\": \"30d\", \"dry_run\": true}.");
        Duration events = period(json, "events_older_than");
        Duration jobs = period(json, "jobs_older_than");
        JsonNode dry = json.path("dry_run");
        if (!dry.isMissingNode() && !dry.isBoolean())
            throw new IllegalArgumentException("dry_run must be true or false.");
        CleanupRequest r = new CleanupRequest(events, jobs, dry.asBoolean(false));
        if (r.nothing()) throw new IllegalArgumentException("Give events_older_than or jobs_older_than (or both).");
        return r;
    }

    private static Duration period(JsonNode json, String field) {
        JsonNode v = json.path(field);
        if (v.isMissingNode() || v.isNull()) return Duration.ZERO;
        if (!v.isTextual()) throw new IllegalArgumentException(field + " must be a duration such as \"30d\".");
        try {
            return ConfigLoader.parseRetention(v.asText());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + " " + e.getMessage() + ", was '" + v.asText() + "'.");
        }
    }

    /**
     * NDJSON lines written and flushed one by one. The status (200) goes out with the first line, which only comes
     * once the cleanup holds its lock, so a busy answer (409) can still be given before it. A client that went away
     * stops getting lines; the cleanup goes on.
     */
    private static final class Lines {
        private final Context ctx;
        private OutputStream out;
        private boolean gone;

        Lines(Context ctx) {
            this.ctx = ctx;
        }

        void write(Map<String, Object> line) {
            if (gone) return;
            try {
                if (out == null) {
                    ctx.status(200).contentType("application/x-ndjson");
                    out = ctx.outputStream();
                }
                out.write(Json.MAPPER.writeValueAsBytes(line));
                out.write('\n');
                out.flush();
            } catch (IOException | UncheckedIOException e) {
                gone = true;
                log.info("cleanup: the client went away ({}); the cleanup goes on", e.getMessage());
            }
        }

        void close() {
            if (out == null || gone) return;
            try {
                out.close();
            } catch (IOException e) {
                log.debug("cleanup: closing the response failed: {}", e.getMessage());
            }
        }
    }
}
