package io.jobstream.api;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.LoginRoutes;
import io.jobstream.event.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AWX's API roots, which AWX serves without a login and awxkit reads before it logs in: {@code GET /api/} (the
 * versions; it also sets the {@code csrftoken} cookie that the login at {@code /api/login/} must echo) and
 * {@code GET /api/v2/} (the resources, from which {@code awx} builds its commands). They list only resources this node
 * serves and are the same for everyone: paths, never objects, counts or state. Thread-safe, stateless.
 */
public final class AwxRoots {
    static final String V2 = "/api/v2/";

    public void register(RoutesConfig routes) {
        routes.get("/api/", this::root, Access.ANONYMOUS);
        routes.get(V2, this::v2, Access.ANONYMOUS);
    }

    private void root(Context ctx) throws Exception {
        LoginRoutes.ensureCsrfCookie(ctx);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("description", "jobstream REST API (AWX shapes)");
        body.put("current_version", V2);
        body.put("available_versions", Map.of("v2", V2));
        body.put("custom_logo", "");
        body.put("custom_login_info", "");
        body.put("login_redirect_override", "");
        json(ctx, body);
    }

    /** Only what is served: AWX's other resources (templates, inventories, projects...) answer 404 as AWX's do. */
    private void v2(Context ctx) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        for (String resource : new String[] {"ping", "me", "users", "teams", "jobs"})
            body.put(resource, V2 + resource + "/");
        json(ctx, body);
    }

    private static void json(Context ctx, Object body) throws Exception {
        ctx.status(200).contentType("application/json").result(Json.MAPPER.writeValueAsBytes(body));
    }
}
