package io.jobstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.AuthStore;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Principal;
import io.jobstream.auth.Requests;
import io.jobstream.event.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write side of jobs over HTTP: {@code POST /api/v2/jobs/} launches (201 with the job as
 * {@code GET /api/v2/jobs/{id}/} shows it), {@code POST /api/v2/jobs/{id}/cancel/} cancels (202), and
 * {@code GET …/cancel/} answers {@code {"can_cancel": …}} as AWX does. Refusals answer AWX's {@code {"detail": …}}.
 *
 * <p>Who: any logged-in user launches (or admins only, with {@code jobs.launch-by=admins}); the job is theirs, and
 * {@code "team": <id>} shares it at launch with a team they are in. Its owner or an admin cancels it.
 */
public final class LaunchRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(LaunchRoutes.class);

    private final JobLauncher launcher;
    private final LongFunction<Optional<byte[]>> jobJson;
    private final JobAccess access;
    private final AuthStore teams;
    private final boolean adminsOnly;

    /**
     * @param jobJson    the job as the REST read side renders it, empty when there is no such job
     * @param adminsOnly whether only superusers may launch
     */
    public LaunchRoutes(
            JobLauncher launcher,
            LongFunction<Optional<byte[]>> jobJson,
            JobAccess access,
            AuthStore teams,
            boolean adminsOnly) {
        this.launcher = launcher;
        this.jobJson = jobJson;
        this.access = access;
        this.teams = teams;
        this.adminsOnly = adminsOnly;
    }

    public void register(RoutesConfig routes) {
        routes.post("/api/v2/jobs/", this::launch, Access.USER);
        routes.post("/api/v2/jobs/{id}/cancel/", this::cancel, Access.USER);
        routes.get(
                "/api/v2/jobs/{id}/cancel/",
                ctx -> {
                    long id = id(ctx);
                    if (id < 0 || jobJson.apply(id).isEmpty()) {
                        detail(ctx, 404, "Not found.");
                        return;
                    }
                    if (!access.mayView(Requests.principal(ctx), id)) {
                        detail(ctx, 403, Requests.FORBIDDEN);
                        return;
                    }
                    json(ctx, 200, Json.MAPPER.writeValueAsBytes(Map.of("can_cancel", launcher.canCancel(id))));
                },
                Access.USER);
    }

    private void launch(Context ctx) throws Exception {
        Principal p = Requests.principal(ctx);
        if (adminsOnly && !p.superuser()) {
            detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        long id;
        try {
            byte[] body = body(ctx);
            LaunchRequest request = LaunchRequest.parse(body);
            Long team = team(body);
            if (team != null && (teams.team(team).isEmpty() || (!p.superuser() && !teams.isMember(team, p.userId())))) {
                throw new LaunchException(400, "team " + team + " does not exist or you are not in it");
            }
            id = launcher.launch(request, p.userId(), team);
        } catch (LaunchException e) {
            if (e.status == 429 || e.status == 503) ctx.header("Retry-After", Long.toString(e.retryAfterSeconds));
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
        Principal p = Requests.principal(ctx);
        if (!p.superuser() && access.writable(p, List.of(id)).isEmpty()) {
            detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        if (!launcher.cancel(id) && launcher.cancelElsewhere(id) == JobLauncher.Elsewhere.NOT_RUNNING) {
            detail(ctx, 405, "Job " + id + " cannot be canceled: it is not running.");
            return;
        }
        ctx.status(202);
    }

    /**
     * The body, read no further than {@link LaunchFields#MAX_BODY_BYTES}: a launch is small, and the node's request
     * limit is sized for ingest batches, far more than a launch needs to hold in memory.
     */
    private static byte[] body(Context ctx) throws IOException {
        long declared = ctx.req().getContentLengthLong();
        if (declared > LaunchFields.MAX_BODY_BYTES) throw tooLarge();
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes(LaunchFields.MAX_BODY_BYTES + 1);
            if (body.length > LaunchFields.MAX_BODY_BYTES) throw tooLarge();
            return body;
        }
    }

    private static LaunchException tooLarge() {
        return new LaunchException(413, "a launch request is at most " + LaunchFields.MAX_BODY_BYTES + " bytes");
    }

    /** The optional {@code "team"} of a launch body (already known to be a JSON object). */
    private static Long team(byte[] body) throws IOException {
        JsonNode team = Json.MAPPER.readTree(body).get("team");
        if (team == null || team.isNull()) return null;
        if (!team.canConvertToLong() || !team.isIntegralNumber())
            throw new LaunchException(400, "team must be a team id");
        return team.longValue();
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
