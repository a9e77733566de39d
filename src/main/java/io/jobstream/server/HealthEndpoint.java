package io.jobstream.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.event.Json;
import io.jobstream.queue.EventQueue;
import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * {@code GET /api/v2/health/}: 200 when the node can take and store events, else 503; the body says, per
 * component, "ok" or what is wrong, so a load balancer and an operator read the same answer.
 */
final class HealthEndpoint {
    private final DataSource dataSource;
    private final EventQueue queue;
    private final BooleanSupplier receiverAlive;
    private final BooleanSupplier redisDown;

    HealthEndpoint(DataSource dataSource, EventQueue queue, BooleanSupplier receiverAlive) {
        this(dataSource, queue, receiverAlive, null);
    }

    /** @param redisDownOrNull cluster mode: whether this node's last Redis command failed */
    HealthEndpoint(DataSource dataSource, EventQueue queue, BooleanSupplier receiverAlive, BooleanSupplier redisDownOrNull) {
        this.dataSource = dataSource;
        this.queue = queue;
        this.receiverAlive = receiverAlive;
        this.redisDown = redisDownOrNull;
    }

    void register(RoutesConfig routes) {
        routes.get("/api/v2/health/", this::handle, Access.ANONYMOUS);
    }

    private void handle(Context ctx) throws Exception {
        Map<String, Object> checks = new LinkedHashMap<>();
        checks.put("database", database());
        checks.put("receiver", receiverAlive.getAsBoolean() ? "ok" : "receiver thread is not running");
        if (redisDown != null) checks.put("redis", redisDown.getAsBoolean() ? "unreachable (ingest answers 503)" : "ok");
        int depth = queue.depth();
        checks.put("queue", depth < queue.capacity() ? "ok" : "full (" + depth + " events)");
        boolean ok = checks.values().stream().allMatch("ok"::equals);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ok ? "ok" : "unavailable");
        body.put("checks", checks);
        body.put("queue_depth", depth);
        ctx.status(ok ? 200 : 503).contentType("application/json").result(Json.MAPPER.writeValueAsString(body));
    }

    private String database() {
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(2) ? "ok" : "connection is not valid";
        } catch (Exception e) {
            return "unreachable: " + e.getMessage();
        }
    }
}
