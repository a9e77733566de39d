package io.jobstream.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.event.Json;
import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.HealthCheck;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v2/health/}: 200 when the node can take and store events, else 503. It asks each component's
 * {@link HealthCheck} in turn and the body says, per component, "ok" or its fixed state word, so a load balancer and
 * an operator read the same answer. It is open to anyone (probes carry no credentials), so it shows states and
 * counts only: never a check's detail (an exception's text can name hosts, users or SQL); the detail goes to the
 * node's log instead, once per change. Called on Jetty's threads, concurrently.
 */
final class HealthEndpoint {
    private static final Logger log = LoggerFactory.getLogger(HealthEndpoint.class);
    private final Map<String, HealthCheck> checks;
    private final IntSupplier queueDepth;
    /** Per component, the last detail logged, so that a probe every second does not log the same cause every second. */
    private final Map<String, String> logged = new ConcurrentHashMap<>();

    /** @param checks component name → its check, in the order the body lists them */
    HealthEndpoint(Map<String, HealthCheck> checks, IntSupplier queueDepth) {
        this.checks = new LinkedHashMap<>(checks);
        this.queueDepth = queueDepth;
    }

    void register(RoutesConfig routes) {
        routes.get("/api/v2/health/", this::handle, Access.ANONYMOUS);
    }

    private void handle(Context ctx) throws Exception {
        Map<String, Object> states = new LinkedHashMap<>();
        boolean ok = true;
        for (Map.Entry<String, HealthCheck> c : checks.entrySet()) {
            CheckResult result = c.getValue().check();
            states.put(c.getKey(), result.state());
            ok &= result.ok();
            remember(c.getKey(), result);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ok ? "ok" : "unavailable");
        body.put("checks", states);
        body.put("queue_depth", queueDepth.getAsInt());
        ctx.status(ok ? 200 : 503).contentType("application/json").result(Json.MAPPER.writeValueAsString(body));
    }

    private void remember(String component, CheckResult result) {
        if (result.detail() == null) {
            logged.remove(component);
        } else if (!result.detail().equals(logged.put(component, result.detail()))) {
            log.warn("health: {} is {}: {}", component, result.state(), result.detail());
        }
    }
}
