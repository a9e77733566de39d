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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v2/health/}: 200 when the node can take and store events, else 503; the body says, per
 * component, "ok" or a fixed state word, so a load balancer and an operator read the same answer. It is open to
 * anyone (probes carry no credentials), so it shows states and counts only: never an exception's text, which can
 * name hosts, users or SQL; the cause goes to the node's log instead, once per change.
 */
final class HealthEndpoint {
    private static final Logger log = LoggerFactory.getLogger(HealthEndpoint.class);
    private final DataSource dataSource;
    private final EventQueue queue;
    private final BooleanSupplier receiverAlive;
    private final BooleanSupplier redisDown;
    /** The last failure logged, so that a probe every second does not log the same cause every second. */
    private volatile String lastDatabaseError;

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
        checks.put("receiver", receiverAlive.getAsBoolean() ? "ok" : "stopped");
        if (redisDown != null) checks.put("redis", redisDown.getAsBoolean() ? "unreachable" : "ok");
        int depth = queue.depth();
        checks.put("queue", depth < queue.capacity() ? "ok" : "full");
        boolean ok = checks.values().stream().allMatch("ok"::equals);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ok ? "ok" : "unavailable");
        body.put("checks", checks);
        body.put("queue_depth", depth);
        ctx.status(ok ? 200 : 503).contentType("application/json").result(Json.MAPPER.writeValueAsString(body));
    }

    private String database() {
        try (Connection c = dataSource.getConnection()) {
            String state = c.isValid(2) ? "ok" : "invalid";
            lastDatabaseError = null;
            return state;
        } catch (Exception e) {
            String why = String.valueOf(e.getMessage());
            if (!why.equals(lastDatabaseError)) log.warn("health: the database is unreachable: {}", why);
            lastDatabaseError = why;
            return "unreachable";
        }
    }
}
