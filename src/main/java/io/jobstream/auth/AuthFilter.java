package io.jobstream.auth;

import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;

/**
 * The gate in front of every HTTP route (a Javalin before-handler): authenticates, refuses, and leaves the
 * {@link Principal} on the request for the routes' own per-job checks ({@link Requests#principal}).
 *
 * <ul>
 *   <li>Open without credentials: {@code /api/v2/ping/} (AWX's is open too; load balancers probe it),
 *       {@code /api/v2/health/} and {@code /metrics} (probes and Prometheus scrapers, which carry no user; they show
 *       counts and states, never job content), {@code /login/} and {@code /static/...} (the login page and its CSS).
 *   <li>Websocket paths are left to the websocket endpoint, which closes an unauthenticated handshake with 1008.
 *   <li>No credentials: UI pages answer 302 to {@code /login/?next=...}; the API 401 with AWX's detail.
 *   <li>Ingest tokens are good for {@code POST /api/v2/job_events/ingest/} only (403 elsewhere).
 *   <li>CSRF, Django's rule: an unsafe method authenticated by the session cookie must carry {@code X-CSRFToken}
 *       equal to the {@code csrftoken} cookie. Bearer and Basic requests are exempt: a browser never adds those on
 *       its own to a request another site makes it send.
 * </ul>
 * Thread-safe; runs on Jetty's threads.
 */
public final class AuthFilter {
    public static final String INGEST_PATH = "/api/v2/job_events/ingest/";
    private static final Set<String> OPEN = Set.of("/api/v2/ping/", "/api/v2/health/", "/metrics", "/login/");
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
    private static final Set<String> ADMIN_ONLY = Set.of("/api/v2/stats/");
    static final String CSRF_COOKIE = "csrftoken";
    static final String CSRF_HEADER = "X-CSRFToken";

    private final Authenticator authenticator;
    private final List<String> websocketPaths;

    public AuthFilter(Authenticator authenticator, List<String> websocketPaths) {
        this.authenticator = authenticator;
        this.websocketPaths = websocketPaths;
    }

    public void handle(Context ctx) {
        String path = ctx.path();
        if (OPEN.contains(path) || path.startsWith("/static/") || websocketPaths.contains(path)) return;
        Authenticator.Result result = authenticator.authenticate(ctx.header("Authorization"),
                ctx.cookie(Authenticator.SESSION_COOKIE), ctx.ip());
        if (!(result instanceof Authenticator.Result.Ok ok)) {
            refuseUnauthenticated(ctx, result);
            return;
        }
        Principal p = ok.principal();
        if (!p.isUser() && !path.equals(INGEST_PATH)) {
            refuse(ctx, 403, "ingest_token", "This token may only send events to " + INGEST_PATH);
            return;
        }
        if (p.via() == Principal.Via.SESSION && !SAFE_METHODS.contains(ctx.method().name()) && !csrfMatches(ctx)) {
            refuse(ctx, 403, "csrf", "CSRF Failed: CSRF token missing or incorrect.");
            return;
        }
        if (ADMIN_ONLY.contains(path) && !p.superuser()) {
            refuse(ctx, 403, "forbidden", Requests.FORBIDDEN);
            return;
        }
        Requests.attach(ctx, p);
    }

    private void refuseUnauthenticated(Context ctx, Authenticator.Result result) {
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
        boolean badHeader = result instanceof Authenticator.Result.Failed f && !f.reason().equals("bad_session");
        if (!badHeader && isPage(ctx)) {
            String next = ctx.queryString() == null ? ctx.path() : ctx.path() + "?" + ctx.queryString();
            ctx.redirect("/login/?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
            ctx.skipRemainingHandlers();
            return;
        }
        // RFC 9110 wants a challenge with 401; Bearer, so that browsers do not pop up a Basic password dialog
        ctx.header("WWW-Authenticate", "Bearer realm=\"jobstream\"");
        Requests.detail(ctx, 401, badHeader ? invalid(((Authenticator.Result.Failed) result).reason())
                : Requests.NOT_AUTHENTICATED);
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

    /** The UI's pages, where a person should land on the login form rather than on JSON. */
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
