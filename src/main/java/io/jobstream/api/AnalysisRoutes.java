package io.jobstream.api;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Requests;
import java.time.Clock;
import java.util.Objects;

/**
 * The routes that explain a run (SPEC §11, issue 19): host summaries, timeline, compare, and the search across
 * jobs. Every route is {@link Access#USER} and checks per job, as the other job routes do: an unknown job is 404, a
 * job the caller may not see 403 (compare: both jobs); the search shows only visible jobs' events. The timeline's
 * {@code ?format=matrix} is the same route and rule ({@link MatrixView}). Handlers run on
 * Jetty's request threads; the readers must be thread-safe. Holds no resources (the models' thread is
 * {@link RunModels}', which the server starts and stops).
 */
public final class AnalysisRoutes {
    private final JobReader jobs;
    private final JobAccess access;
    private final TimelineView timeline;
    private final MatrixView matrix;
    private final HostSummariesView summaries;
    private final CompareView compare;
    private final SearchView search;

    /** @param models the node's run models ({@link RunModels}: its cache, also filled as jobs finish) */
    public AnalysisRoutes(
            JobReader jobs, RunReader runs, RunModels models, EventSearch search, JobAccess access, Clock clock) {
        this(jobs, runs, Objects.requireNonNull(models, "models").cache(), search, access, clock);
    }

    private AnalysisRoutes(
            JobReader jobs, RunReader runs, RunCache models, EventSearch search, JobAccess access, Clock clock) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.access = Objects.requireNonNull(access, "access");
        Objects.requireNonNull(runs, "runs");
        this.timeline = new TimelineView(models, clock);
        this.matrix = new MatrixView(models, clock);
        this.summaries = new HostSummariesView(runs, models);
        this.compare = new CompareView(models);
        this.search = new SearchView(search, jobs, access);
    }

    public void register(RoutesConfig routes) {
        routes.get(
                "/api/v2/jobs/{id}/job_host_summaries/",
                ApiRoutes.guard(ctx -> summaries.handle(ctx, job(ctx, "id"))),
                Access.USER);
        routes.get(
                "/api/v2/jobs/{id}/timeline/",
                ApiRoutes.guard(ctx -> {
                    JobView j = job(ctx, "id");
                    if (MatrixView.wanted(ctx)) matrix.handle(ctx, j); // ?format=matrix: all hosts x tasks, compact
                    else timeline.handle(ctx, j);
                }),
                Access.USER);
        routes.get(
                "/api/v2/jobs/{id}/compare/{other}/",
                ApiRoutes.guard(ctx -> {
                    JobView a = job(ctx, "id");
                    compare.handle(ctx, a, job(ctx, "other"));
                }),
                Access.USER);
        routes.get("/api/v2/job_events/", ApiRoutes.guard(search::handle), Access.USER);
    }

    /** The job of a path parameter: 404 unknown or not a number, 400 out of range, 403 not visible to the caller. */
    private JobView job(Context ctx, String param) {
        long id;
        try {
            id = Long.parseLong(ctx.pathParam(param));
        } catch (NumberFormatException e) {
            throw ApiError.notFound();
        }
        if (!JobAccess.validJobId(id))
            throw ApiError.badRequest("job id " + id + " is not in 1.." + JobAccess.MAX_JOB_ID);
        JobView job = jobs.find(id).orElseThrow(ApiError::notFound);
        if (!access.mayView(Requests.principal(ctx), job.id())) throw ApiError.forbidden();
        return job;
    }
}
