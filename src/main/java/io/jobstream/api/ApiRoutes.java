package io.jobstream.api;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.jobstream.auth.Access;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Requests;
import io.jobstream.config.Config;
import io.jobstream.limit.Concurrency;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST read side in AWX's shapes (SPEC §4, reference §7): ping, jobs, job events, children_summary and
 * stdout, registered on Javalin by {@link #register}. Handlers run on Jetty's request threads and read through
 * the given readers, which must be thread-safe. Errors leave as AWX's {@code {"detail": ...}}: 400 for a bad
 * parameter, 404 for an unknown id, 503 when the store cannot answer. Holds no resources; nothing to close.
 */
public final class ApiRoutes {
    private static final Logger LOG = LoggerFactory.getLogger(ApiRoutes.class);

    private final JobReader jobs;
    private final NodeInfo node;
    private final EventsView events;
    private final StdoutView stdout;
    private final JobAccess access;

    /** @param access who may see which job; every route but ping expects the AuthFilter's principal on the request */
    public ApiRoutes(JobReader jobs, EventReader events, StdoutSource stdout, NodeInfo node, JobAccess access) {
        this(jobs, events, stdout, node, access, Config.Downloads.DEFAULT, new SimpleMeterRegistry());
    }

    /**
     * @param downloads how stdout responses are streamed (minimum read rate)
     * @param registry  for {@code http.downloads.too.slow} and {@code http.refused{reason=downloads_per_user}}
     */
    public ApiRoutes(
            JobReader jobs,
            EventReader events,
            StdoutSource stdout,
            NodeInfo node,
            JobAccess access,
            Config.Downloads downloads,
            MeterRegistry registry) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.access = Objects.requireNonNull(access, "access");
        this.node = Objects.requireNonNull(node, "node");
        this.events = new EventsView(jobs, Objects.requireNonNull(events, "events"), (ctx, jobId) -> {
            if (!access.mayView(Requests.principal(ctx), jobId)) throw ApiError.forbidden();
        });
        this.stdout = new StdoutView(
                Objects.requireNonNull(stdout, "stdout"),
                downloads,
                Counter.builder(Metrics.HTTP_DOWNLOADS_TOO_SLOW)
                        .description("stdout responses cut off because the client"
                                + " read slower than http.min-response-rate")
                        .register(registry),
                new Concurrency(
                        downloads.maxPerUser(),
                        n -> registry.counter(Metrics.HTTP_REFUSED, "reason", "downloads_per_user")
                                .increment()));
    }

    public void register(RoutesConfig routes) {
        routes.get("/api/v2/ping/", guard(this::ping), Access.ANONYMOUS);
        routes.get("/api/v2/jobs/", guard(this::jobList), Access.USER);
        routes.get(
                "/api/v2/jobs/{id}/",
                guard(ctx -> EventsView.json(ctx, ApiJson.bytes(g -> ApiJson.writeJob(g, job(ctx))))),
                Access.USER);
        routes.get("/api/v2/jobs/{id}/job_events/", guard(ctx -> events.jobEvents(ctx, job(ctx))), Access.USER);
        routes.get(
                "/api/v2/jobs/{id}/job_events/children_summary/",
                guard(ctx -> events.childrenSummary(ctx, job(ctx))),
                Access.USER);
        routes.get("/api/v2/jobs/{id}/stdout/", guard(ctx -> stdout.handle(ctx, job(ctx))), Access.USER);
        routes.get("/api/v2/job_events/{id}/", guard(ctx -> events.event(ctx, id(ctx))), Access.USER);
        routes.get("/api/v2/job_events/{id}/children/", guard(ctx -> events.children(ctx, id(ctx))), Access.USER);
    }

    /** The job as {@code GET /api/v2/jobs/{id}/} renders it, empty when there is no such job (for the launch reply). */
    public java.util.Optional<byte[]> jobJson(long id) {
        return jobs.find(id).map(j -> ApiJson.bytes(g -> ApiJson.writeJob(g, j)));
    }

    /** Maps refusals and store failures to AWX's error bodies, unless a streamed body has already begun. */
    static Handler guard(Handler handler) {
        return ctx -> {
            try {
                handler.handle(ctx);
            } catch (ApiError e) {
                fail(ctx, e.status, e.getMessage());
            } catch (ReadException e) {
                LOG.warn("{} {} failed: {}", ctx.method(), ctx.path(), e.getMessage(), e.getCause());
                if (ctx.res().isCommitted()) throw e; // mid-stream: only aborting the response is left
                fail(ctx, 503, "The job store is unavailable, try again.");
            }
        };
    }

    private static void fail(Context ctx, int status, String detail) {
        ctx.status(status);
        EventsView.json(ctx, ApiJson.detail(detail));
    }

    private static long id(Context ctx) {
        try {
            long id = Long.parseLong(ctx.pathParam("id"));
            if (id < 1) throw ApiError.notFound();
            return id;
        } catch (NumberFormatException e) {
            throw ApiError.notFound();
        }
    }

    /** A job id of a path: 404 when not a number, 400 when out of job ids' range (1..2147483647, as AWX's). */
    private static long jobId(Context ctx) {
        long id;
        try {
            id = Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            throw ApiError.notFound();
        }
        if (!JobAccess.validJobId(id))
            throw ApiError.badRequest("job id " + id + " is not in 1.." + JobAccess.MAX_JOB_ID);
        return id;
    }

    /** The job of the path, when it exists (404) and the caller may see it (403, AWX's answer). */
    private JobView job(Context ctx) {
        JobView job = jobs.find(jobId(ctx)).orElseThrow(ApiError::notFound);
        if (!access.mayView(Requests.principal(ctx), job.id())) throw ApiError.forbidden();
        return job;
    }

    /** AWX-like; this node is the only instance it knows of (cluster peers are not tracked here). */
    private void ping(Context ctx) {
        EventsView.json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            g.writeBooleanField("ha", false);
            g.writeStringField("version", node.version());
            g.writeStringField("active_node", node.node());
            g.writeArrayFieldStart("instances");
            g.writeStartObject();
            g.writeStringField("node", node.node());
            g.writeStringField("node_type", "hybrid");
            g.writeStringField("started", ApiJson.time(node.started()));
            g.writeStringField("version", node.version());
            g.writeEndObject();
            g.writeEndArray();
            g.writeArrayFieldStart("instance_groups");
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    /** Jobs newest first unless ordered otherwise, AWX's page paginator, filtered as {@link JobQuery} reads. */
    private void jobList(Context ctx) {
        Map<String, List<String>> params = ctx.queryParamMap();
        JobQuery query = JobQuery.parse(params);
        int page = QueryParams.page(QueryParams.first(params, "page"));
        int size = QueryParams.pageSize(QueryParams.first(params, "page_size"));
        boolean count = !QueryParams.flag(params, "count_disabled");
        Long visibleTo = access.listFilter(Requests.principal(ctx));
        Page<JobView> result = jobs.list(query, visibleTo, (long) (page - 1) * size, size, count);
        if (page > 1 && result.rows().isEmpty()) throw ApiError.invalidPage();
        EventsView.json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            if (count) {
                g.writeNumberField("count", result.count());
                String next = PageLinks.next(ctx.path(), ctx.queryString(), page, size, result.count());
                String prev = PageLinks.previous(ctx.path(), ctx.queryString(), page);
                g.writeStringField("next", next);
                g.writeStringField("previous", prev);
            }
            g.writeArrayFieldStart("results");
            for (JobView j : result.rows()) ApiJson.writeJob(g, j);
            g.writeEndArray();
            g.writeEndObject();
        }));
    }
}
