package io.jobstream.auth;

import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.security.RouteRole;
import io.jobstream.limit.Concurrency;
import io.jobstream.limit.CpuBudget;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;
import java.util.function.Function;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gate in front of every HTTP route: enforces the {@link Access} rule the matched route declared at its
 * registration, and leaves the {@link Principal} on the request for the routes' own per-object checks
 * ({@link Requests#principal}). It runs as Javalin's {@code beforeMatched} handler, so it sees the route the router
 * chose, whatever the spelling of the path; a route without exactly one rule is refused (500, logged), never opened.
 *
 * <ul>
 *   <li>{@link Access#ANONYMOUS}: no credentials looked at.
 *   <li>No credentials: {@link Access#PAGE} routes answer 302 to {@code /login/?next=...}; the others 401 with AWX's
 *       detail. Unmatched paths ({@link #unmatched}) are authenticated the same way first and only then 404, so
 *       probing without credentials cannot tell which paths exist.
 *   <li>Ingest tokens are good for {@link Access#INGEST} routes only (403 elsewhere).
 *   <li>CSRF, Django's rule: an unsafe method authenticated by the session cookie must carry {@code X-CSRFToken}
 *       equal to the {@code csrftoken} cookie. Bearer and Basic requests are exempt: a browser never adds those on
 *       its own to a request another site makes it send.
 *   <li>A user (with any of their credentials) has at most {@code http.max-requests-per-user} requests in progress,
 *       ingest and {@link Access#STREAM} excepted; one more is answered 429 with {@code Retry-After} before its
 *       handler runs.
 *   <li>The same requests are charged, after they ran, with the CPU time their thread spent, against the user's
 *       share of the node's CPU ({@code http.max-cpu-per-user}, {@link CpuBudget}); a user over it is answered 429
 *       with {@code Retry-After} before the handler runs, until the share has refilled. Superusers are not held to it.
 *   <li>{@link Access#WEBSOCKET}: the handshake is the websocket endpoint's, which closes an unauthenticated one
 *       with 1008; a plain HTTP request to such a path is authenticated here and then finds no HTTP route (404).
 *       Declared on an HTTP route by mistake, it counts as {@link Access#USER}, never as open.
 * </ul>
 * Thread-safe; runs on Jetty's threads.
 */
public final class AuthFilter {
    private static final Logger log = LoggerFactory.getLogger(AuthFilter.class);
    public static final String INGEST_PATH = "/api/v2/job_events/ingest/";
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
    /** Where a request's CPU charge starts: {@link CpuStart}, set when its handler is let in. */
    private static final String CPU_START = "jobstream.cpu-start";

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** Set on a request once a route's rule was applied: a 404 without it means no route matched. */
    private static final String RULED = "jobstream.access-ruled";

    static final String CSRF_COOKIE = "csrftoken";
    static final String CSRF_HEADER = "X-CSRFToken";

    private final Authenticator authenticator;
    private final Function<String, Set<RouteRole>> getRoles;
    /** Requests in progress per user id (http.max-requests-per-user), ingest excepted. */
    private final Concurrency inProgress;
    /** Each user's share of the node's CPU (http.max-cpu-per-user), ingest and streams excepted. */
    private final CpuBudget cpu;

    private final Counter cpuRefused;

    /** Without a limit on a user's requests in progress or their CPU. */
    public AuthFilter(Authenticator authenticator, Function<String, Set<RouteRole>> getRoles) {
        this(authenticator, getRoles, 0, new CpuBudget(0, 1, System::nanoTime), new SimpleMeterRegistry());
    }

    /**
     * @param getRoles           the roles of the GET route a path matches (empty when none): Javalin answers a HEAD
     *                           request itself (200, no body, without running a handler) when a GET route matches, so
     *                           that route's rule is the one a HEAD must pass
     * @param maxRequestsPerUser http.max-requests-per-user, 0 = no limit; refusals counted in
     *                           {@code http.refused{reason=requests_per_user}}
     * @param cpu                each user's share of the node's CPU; refusals counted in
     *                           {@code http.refused{reason=cpu_per_user}}
     */
    public AuthFilter(
            Authenticator authenticator,
            Function<String, Set<RouteRole>> getRoles,
            int maxRequestsPerUser,
            CpuBudget cpu,
            MeterRegistry registry) {
        this.authenticator = authenticator;
        this.getRoles = getRoles;
        Counter refused = registry.counter(Metrics.HTTP_REFUSED, "reason", "requests_per_user");
        this.inProgress = new Concurrency(maxRequestsPerUser, n -> refused.increment());
        // thread CPU time is what the charge is made of; a JVM that cannot measure it cannot enforce the share
        this.cpu = THREADS.isCurrentThreadCpuTimeSupported() ? cpu : new CpuBudget(0, 1, System::nanoTime);
        if (cpu.limited() && !THREADS.isCurrentThreadCpuTimeSupported())
            log.warn("this JVM cannot measure thread CPU time: http.max-cpu-per-user is not enforced");
        this.cpuRefused = registry.counter(Metrics.HTTP_REFUSED, "reason", "cpu_per_user");
    }

    /** Javalin's beforeMatched handler: applies the matched route's declared rule. */
    public void handle(Context ctx) {
        ctx.attribute(RULED, Boolean.TRUE);
        Set<RouteRole> roles = ctx.routeRoles();
        if (roles.isEmpty() && ctx.method() == HandlerType.HEAD) roles = getRoles.apply(ctx.path());
        Access rule = Access.of(roles);
        if (rule == null) {
            log.error(
                    "{} {} has no access rule (Access) at its registration: refused",
                    ctx.method(),
                    ctx.endpoint().path);
            refuse(ctx, 500, "no_rule", "This route declares no access rule.");
            return;
        }
        // WEBSOCKET belongs on websocket routes, which never come here; on an HTTP route it means a user, not "open"
        if (rule == Access.ANONYMOUS) return;
        Principal p = authenticate(ctx, rule == Access.PAGE);
        if (p == null) return;
        if (!p.isUser() && rule != Access.INGEST) {
            refuse(ctx, 403, "ingest_token", "This token may only send events to " + INGEST_PATH);
            return;
        }
        if (p.via() == Principal.Via.SESSION
                && !SAFE_METHODS.contains(ctx.method().name())
                && !csrfMatches(ctx)) {
            refuse(ctx, 403, "csrf", "CSRF Failed: CSRF token missing or incorrect.");
            return;
        }
        if (rule == Access.ADMIN && !p.superuser()) {
            refuse(ctx, 403, "forbidden", Requests.FORBIDDEN);
            return;
        }
        if (rule != Access.INGEST && rule != Access.STREAM && !(holdPlace(ctx, p) && withinCpuShare(ctx, p))) return;
        Requests.attach(ctx, p);
    }

    /**
     * Lets the request in while its user is within their CPU share, and marks where its charge starts; else answers
     * 429 at once. The place {@link #holdPlace} took is given back by the completion listener either way.
     */
    private boolean withinCpuShare(Context ctx, Principal p) {
        // superusers are the operators: they may change this limit, and their cleanup or storage report must not wait
        if (!cpu.limited() || p.superuser()) return true;
        String user = Long.toString(p.userId());
        if (!cpu.admit(user)) {
            cpuRefused.increment();
            ctx.header("Retry-After", Long.toString(cpu.retryAfterSeconds(user)));
            Requests.detail(
                    ctx,
                    429,
                    "Your requests have used more than your share of the server's CPU (" + cpu.cores()
                            + " of a core on average, http.max-cpu-per-user); retry after the time given.");
            ctx.skipRemainingHandlers();
            return false;
        }
        ctx.attribute(CPU_START, new CpuStart(user, Thread.currentThread(), THREADS.getCurrentThreadCpuTime()));
        return true;
    }

    /**
     * Javalin's after handler: charges the request's user with the CPU time its thread spent since it was let in.
     * A handler that finished its work on another thread (an asynchronous response) is charged only for what ran
     * on the first one: thread CPU can be read only for the thread it is on, and guessing would charge strangers.
     */
    public void charge(Context ctx) {
        CpuStart start = ctx.attribute(CPU_START);
        if (start == null || start.thread() != Thread.currentThread()) return;
        ctx.attribute(CPU_START, null); // once, whatever runs after us
        cpu.charge(start.user(), THREADS.getCurrentThreadCpuTime() - start.cpuNanos());
    }

    private record CpuStart(String user, Thread thread, long cpuNanos) {}

    /**
     * Takes one of the user's places for requests in progress until the response is complete (streamed bodies
     * included), or answers 429 at once. Ingest is not held to it: emitters pipeline many requests, each waiting for
     * its commit without a thread, and ingest.max-rate and the queue bound them. Why a count and not a rate: what one
     * user can take from the others is server threads and the cores behind them, and a count bounds both at any rate.
     */
    private boolean holdPlace(Context ctx, Principal p) {
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        if (request == null) return true; // not served by Jetty: no completion to release on, so nothing held
        String user = Long.toString(p.userId());
        if (!inProgress.tryAcquire(user)) {
            ctx.header("Retry-After", "1");
            Requests.detail(
                    ctx,
                    429,
                    "You have " + inProgress.max() + " requests in progress, the most a user may have"
                            + " at once (http.max-requests-per-user); retry when one has finished.");
            ctx.skipRemainingHandlers();
            return false;
        }
        Request.addCompletionListener(request, failure -> inProgress.release(user));
        return true;
    }

    /**
     * Javalin's 404 error handler: a request no route matched is authenticated like any other before it learns that
     * nothing is there; a 404 a route answered itself is left as it is.
     */
    public void unmatched(Context ctx) {
        if (ctx.attribute(RULED) != null) return;
        if (authenticate(ctx, isPage(ctx)) == null) return;
        Requests.detail(ctx, 404, "Not found.");
    }

    /** The principal, or null after answering the refusal (401, 302 to the login page, or 503). */
    private Principal authenticate(Context ctx, boolean page) {
        Authenticator.Result result = authenticator.authenticate(
                ctx.header("Authorization"),
                Authenticator.sessionKey(ctx::cookie),
                Client.of(ctx).address());
        if (result instanceof Authenticator.Result.Ok ok) return ok.principal();
        refuseUnauthenticated(ctx, result, page);
        return null;
    }

    private void refuseUnauthenticated(Context ctx, Authenticator.Result result, boolean page) {
        if (result instanceof Authenticator.Result.Throttled t) { // password guessing, or every hashing slot busy
            ctx.header("Retry-After", Long.toString(t.retryAfterSeconds()));
            Requests.detail(ctx, t.status(), t.detail());
            ctx.skipRemainingHandlers();
            return;
        }
        if (result instanceof Authenticator.Result.Unavailable) {
            ctx.header("Retry-After", "1");
            Requests.detail(ctx, 503, "Credentials cannot be checked right now (the database is unreachable); retry.");
            ctx.skipRemainingHandlers();
            return;
        }
        if (result instanceof Authenticator.Result.Missing) authenticator.failed("missing");
        boolean badHeader =
                result instanceof Authenticator.Result.Failed f && !f.reason().equals("bad_session");
        if (!badHeader && page) {
            String next = ctx.queryString() == null ? ctx.path() : ctx.path() + "?" + ctx.queryString();
            // set by hand: Javalin's redirect() needs a matched endpoint, which an unmatched path has not
            ctx.status(302).header("Location", "/login/?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
            ctx.skipRemainingHandlers();
            return;
        }
        // RFC 9110 wants a challenge with 401; Bearer, so that browsers do not pop up a Basic password dialog
        ctx.header("WWW-Authenticate", "Bearer realm=\"jobstream\"");
        Requests.detail(
                ctx,
                401,
                badHeader ? invalid(((Authenticator.Result.Failed) result).reason()) : Requests.NOT_AUTHENTICATED);
        ctx.skipRemainingHandlers();
    }

    private static String invalid(String reason) {
        return switch (reason) {
            case "bad_token" -> "Invalid token.";
            case "malformed" -> "Invalid Authorization header.";
            default -> "Invalid username/password.";
        };
    }

    private void refuse(Context ctx, int status, String reason, String detail) {
        authenticator.failed(reason);
        Requests.detail(ctx, status, detail);
        ctx.skipRemainingHandlers();
    }

    /** For an unmatched path: a browser's GET of what looks like a UI page lands on the login form, not on JSON. */
    private static boolean isPage(Context ctx) {
        String path = ctx.path();
        return ctx.method().name().equals("GET") && (path.equals("/") || path.startsWith("/jobs/"));
    }

    static boolean csrfMatches(Context ctx) {
        String cookie = ctx.cookie(CSRF_COOKIE);
        String header = ctx.header(CSRF_HEADER);
        if (cookie == null || cookie.isEmpty() || header == null) return false;
        return MessageDigest.isEqual(cookie.getBytes(StandardCharsets.UTF_8), header.getBytes(StandardCharsets.UTF_8));
    }
}
