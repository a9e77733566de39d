package io.jobstream.job;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.event.Json;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of jobs over HTTP: {@code POST /api/v2/jobs/} launches (201 with the job as
 * {@code GET /api/v2/jobs/{id}/} shows it), {@code POST /api/v2/jobs/{id}/cancel/} cancels (202), and
 * {@code GET …/cancel/} answers {@code {"can_cancel": …}} as AWX does. Refusals answer AWX's {@code {"detail": …}}.
 */
public final class LaunchRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(LaunchRoutes.class);

    private final JobLauncher launcher;
    private final LongFunction<Optional<byte[]>> jobJson;

    /** @param jobJson the job as the REST read side renders it, empty when there is no such job */
    public LaunchRoutes(JobLauncher launcher, LongFunction<Optional<byte[]>> jobJson) {
        this.launcher = launcher;
        this.jobJson = jobJson;
    }

    public void register(RoutesConfig routes) {
        routes.post("/api/v2/jobs/", this::launch);
        routes.post("/api/v2/jobs/{id}/cancel/", this::cancel);
        routes.get("/api/v2/jobs/{id}/cancel/", ctx -> {
            long id = id(ctx);
            if (id < 0 || jobJson.apply(id).isEmpty()) {
                detail(ctx, 404, "Not found.");
                return;
            }
            json(ctx, 200, Json.MAPPER.writeValueAsBytes(Map.of("can_cancel", launcher.isActive(id))));
        });
    }

    private void launch(Context ctx) throws Exception {
        long id;
        try {
            id = launcher.launch(LaunchRequest.parse(ctx.bodyAsBytes()));
        } catch (LaunchException e) {
            detail(ctx, e.status, e.getMessage());
            return;
        } catch (RuntimeException e) {
            LOG.warn("launch failed: {}", e.getMessage(), e);
            detail(ctx, 503, "cannot launch the job: " + e.getMessage());
            return;
        }
        ctx.header("Location", "/api/v2/jobs/" + id + "/");
        Optional<byte[]> body = jobJson.apply(id);
        if (body.isPresent()) json(ctx, 201, body.get());
        else json(ctx, 201, Json.MAPPER.writeValueAsBytes(Map.of("id", id)));
    }

    private void cancel(Context ctx) throws Exception {
        long id = id(ctx);
        if (id < 0 || jobJson.apply(id).isEmpty()) {
            detail(ctx, 404, "Not found.");
            return;
        }
        if (!launcher.cancel(id)) {
            detail(ctx, 405, "Job " + id + " cannot be canceled: it is not running on this node.");
            return;
        }
        ctx.status(202);
    }

    private static long id(Context ctx) {
        try {
            return Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void detail(Context ctx, int status, String detail) throws Exception {
        json(ctx, status, Json.MAPPER.writeValueAsBytes(Map.of("detail", detail)));
    }

    private static void json(Context ctx, int status, byte[] body) {
        ctx.status(status).contentType("application/json").result(body);
    }
}
