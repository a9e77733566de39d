package io.jobstream.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Principal;
import io.jobstream.auth.Requests;
import io.jobstream.config.ConfigLoader;
import io.jobstream.diagnosis.Diagnosis;
import io.jobstream.diagnosis.JobReasons;
import io.jobstream.diagnosis.ReadingsSampler;
import io.jobstream.diagnosis.Rules;
import io.jobstream.event.Json;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /api/v2/diagnosis/?window=60s} (admins): where this node's lag comes from (SPEC §13), what
 * {@code ./jobstream doctor} prints. {@code GET /api/v2/jobs/{id}/diagnosis/} (any user who may see the job): the same
 * diagnosis in sentences for the job page's gauge, without what concerns other users — a finding about one subscriber
 * is shown only to that subscriber's own user, and only when it watches this job; node-wide causes (database,
 * receiver, emitters, fan-out) name no one and are shown to all. Called on HTTP threads; never waits for the database
 * (the readings are kept in memory), except the job route's access check.
 */
final class DiagnosisEndpoint {
    static final String PATH = "/api/v2/diagnosis/";
    static final String JOB_PATH = "/api/v2/jobs/{id}/diagnosis/";
    static final Duration DEFAULT_WINDOW = Duration.ofSeconds(60);

    private final String node;
    private final ReadingsSampler sampler;
    private final JobAccess access;

    DiagnosisEndpoint(String node, ReadingsSampler sampler, JobAccess access) {
        this.node = node;
        this.sampler = sampler;
        this.access = access;
    }

    void register(RoutesConfig routes) {
        routes.get(PATH, this::node, Access.ADMIN);
        routes.get(JOB_PATH, this::job, Access.USER);
    }

    /** The diagnosis over {@code window}; also what the node publishes with its cluster heartbeat. */
    Diagnosis diagnose(Duration window) {
        return Rules.diagnose(sampler.readings(window));
    }

    private void node(Context ctx) throws Exception {
        Duration window = window(ctx);
        if (window == null) return;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("node", node);
        out.putAll(diagnose(window).toJson());
        ctx.contentType("application/json").result(Json.MAPPER.writeValueAsString(out));
    }

    private void job(Context ctx) throws Exception {
        long id;
        try {
            id = Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            Requests.detail(ctx, 400, "job id must be a number");
            return;
        }
        if (!JobAccess.validJobId(id)) {
            Requests.detail(ctx, 400, "job id " + id + " is not in 1.." + JobAccess.MAX_JOB_ID);
            return;
        }
        Principal p = Requests.principal(ctx);
        if (!access.mayView(p, id)) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        Duration window = window(ctx);
        if (window == null) return;
        Map<String, Object> out = JobReasons.of(diagnose(window), p.userId(), id, window.toSeconds());
        ctx.contentType("application/json").result(Json.MAPPER.writeValueAsString(out));
    }

    /** {@code ?window=}, default 60 s, within what the sampler keeps; null after answering 400. */
    private static Duration window(Context ctx) {
        String raw = ctx.queryParam("window");
        if (raw == null || raw.isBlank()) return DEFAULT_WINDOW;
        try {
            Duration d = ConfigLoader.parseDuration(raw.trim());
            if (d.compareTo(ReadingsSampler.MIN_WINDOW) >= 0 && d.compareTo(ReadingsSampler.MAX_WINDOW) <= 0) return d;
        } catch (IllegalArgumentException e) {
            // answered below
        }
        Requests.detail(
                ctx,
                400,
                "window must be a duration from " + ReadingsSampler.MIN_WINDOW.toSeconds() + "s to "
                        + ReadingsSampler.MAX_WINDOW.toMinutes() + "m, e.g. 60s");
        return null;
    }
}
