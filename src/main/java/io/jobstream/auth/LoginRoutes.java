package io.jobstream.auth;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.HttpStatus;
import io.javalin.http.SameSite;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;

/**
 * {@code POST /login/} (the form of the login page, which the UI serves at {@code GET /login/}),
 * {@code POST /logout/}, and AWX's API login {@code POST /api/login/} that awxkit uses. A login stores a session row (its key hashed) and sets {@code sessionid}: HttpOnly (scripts
 * never see it), SameSite=Lax (other sites' POSTs do not carry it), Secure under TLS. It also sets a fresh
 * {@code csrftoken}, as Django rotates it at login, so a token planted before login is useless after.
 *
 * <p>The form posts to its own URL, so {@code next} arrives in the query string; it is followed only when it is a path
 * on this site (an open redirect would let phishing mails pass through our login). Login CSRF (a forged login into
 * the attacker's account) is refused by checking that a browser's {@code Origin}, when sent, is this site.
 * Thread-safe.
 */
public final class LoginRoutes {
    static final String PAGE = "/login/";
    static final String API_LOGIN = "/api/login/";
    private static final String API_ROOT = "/api/";

    private final Authenticator authenticator;
    private final AuthStore store;
    private final Sessions sessions;
    private final Clock clock;
    private final Runnable loggedOut;
    private final Counter endedOverLimit;

    /** How long a login lasts, and how many one user may hold (auth.session-timeout, auth.max-sessions-per-user). */
    public record Sessions(Duration timeout, int maxPerUser) {}

    /** @param loggedOut told after a logout, so that the session's open websockets are closed at once */
    public LoginRoutes(
            Authenticator authenticator,
            AuthStore store,
            Sessions sessions,
            Clock clock,
            Runnable loggedOut,
            MeterRegistry registry) {
        this.authenticator = authenticator;
        this.store = store;
        this.sessions = sessions;
        this.clock = clock;
        this.loggedOut = loggedOut;
        this.endedOverLimit = registry.counter(Metrics.AUTH_SESSIONS_ENDED, "reason", "over_limit");
    }

    public void register(RoutesConfig routes) {
        routes.post(PAGE, this::login, Access.ANONYMOUS);
        routes.post(API_LOGIN, this::apiLogin, Access.ANONYMOUS);
        routes.post("/logout/", this::logout, Access.USER);
    }

    private void login(Context ctx) {
        String next = safeNext(ctx.queryParam("next"));
        if (!WebsocketAuth.sameOrigin(
                ctx.header("Origin"), ctx.header("Host"), Client.of(ctx).scheme())) {
            authenticator.failed("origin");
            ctx.status(HttpStatus.FORBIDDEN).result("Forbidden: the login form was sent from another site.");
            return;
        }
        Authenticator.Result r = checkPassword(ctx);
        if (r instanceof Authenticator.Result.Throttled t) {
            ctx.header("Retry-After", Long.toString(t.retryAfterSeconds()));
            ctx.status(t.status()).result(t.detail());
            return;
        }
        if (!(r instanceof Authenticator.Result.Ok ok)) {
            ctx.redirect(PAGE + "?error=1&next=" + URLEncoder.encode(next, StandardCharsets.UTF_8), HttpStatus.FOUND);
            return;
        }
        startSession(ctx, ok.principal().userId(), Authenticator.SESSION_COOKIE);
        ctx.redirect(next, HttpStatus.FOUND);
    }

    /**
     * AWX's API login, as awxkit performs it ({@code Api().load_session()}, every {@code awx} command without a
     * token): a form POST of {@code username}, {@code password} and {@code next}, guarded by Django's CSRF rule (the
     * {@code csrftoken} cookie that {@code GET /api/} sets, echoed in {@code X-CSRFToken}) against forged logins. On
     * success: 302 to {@code next} (a local path only, else {@code /api/}) with the session in AWX's cookie
     * {@code awx_sessionid}, named in {@code X-API-Session-Cookie-Name} as AWX does, so awxkit picks it up. Failures
     * answer JSON: 401 for bad credentials, 429/503 + Retry-After when throttled, exactly as the login form's checks.
     */
    private void apiLogin(Context ctx) {
        if (!WebsocketAuth.sameOrigin(
                        ctx.header("Origin"), ctx.header("Host"), Client.of(ctx).scheme())
                || !AuthFilter.csrfMatches(ctx)) {
            authenticator.failed("csrf");
            Requests.detail(ctx, 403, "CSRF Failed: CSRF token missing or incorrect.");
            return;
        }
        Authenticator.Result r = checkPassword(ctx);
        if (r instanceof Authenticator.Result.Throttled t) {
            ctx.header("Retry-After", Long.toString(t.retryAfterSeconds()));
            Requests.detail(ctx, t.status(), t.detail());
            return;
        }
        if (!(r instanceof Authenticator.Result.Ok ok)) {
            Requests.detail(ctx, 401, "Invalid username/password.");
            return;
        }
        String next = ctx.formParam("next") != null ? ctx.formParam("next") : ctx.queryParam("next");
        next = next == null ? API_ROOT : safeNext(next);
        startSession(ctx, ok.principal().userId(), Authenticator.AWX_SESSION_COOKIE);
        ctx.header("X-API-Session-Cookie-Name", Authenticator.AWX_SESSION_COOKIE);
        ctx.redirect(next, HttpStatus.FOUND);
    }

    /** The form's {@code username} and {@code password} checked (both login routes; a missing one is a failure). */
    private Authenticator.Result checkPassword(Context ctx) {
        String username = ctx.formParam("username");
        String password = ctx.formParam("password");
        return username == null || password == null
                ? new Authenticator.Result.Failed("bad_password")
                : authenticator.password(username, password, Client.of(ctx).address());
    }

    /**
     * Stores a session for the user and sets its cookie under {@code cookieName}, with a fresh {@code csrftoken} (as
     * Django rotates it at login, so a token planted before login is useless after).
     */
    private void startSession(Context ctx, long userId, String cookieName) {
        String key = Secrets.newSecret();
        Duration timeout = sessions.timeout();
        // the user's oldest sessions beyond the limit end here; their open websockets close at the next periodic
        // access re-check rather than by a re-check of every socket per login (issue 13: re-checks cost the node)
        endedOverLimit.increment(
                store.createSession(Secrets.sha256(key), userId, clock.instant().plus(timeout), sessions.maxPerUser()));
        boolean secure = Client.of(ctx).secure();
        ctx.cookie(new Cookie(cookieName, key, "/", (int) timeout.toSeconds(), secure, true, null, SameSite.LAX));
        ctx.cookie(new Cookie(
                AuthFilter.CSRF_COOKIE, Secrets.newSecret(), "/", 365 * 24 * 3600, secure, false, null, SameSite.LAX));
    }

    /**
     * Sets a {@code csrftoken} cookie unless the request carries one (what AWX's {@code GET /api/} does, and awxkit
     * relies on before it logs in at {@code /api/login/}). Not secret from the client; it only proves to the login
     * that the form was not posted by another site, which cannot read this site's cookies.
     */
    public static void ensureCsrfCookie(Context ctx) {
        String current = ctx.cookie(AuthFilter.CSRF_COOKIE);
        if (current != null && current.matches("[A-Za-z0-9_-]{16,128}")) return;
        boolean secure = Client.of(ctx).secure();
        ctx.cookie(new Cookie(
                AuthFilter.CSRF_COOKIE, Secrets.newSecret(), "/", 365 * 24 * 3600, secure, false, null, SameSite.LAX));
    }

    /** Behind {@link AuthFilter}, so a session logout needs the CSRF header (no forced logouts by other sites). */
    private void logout(Context ctx) {
        String key = Authenticator.sessionKey(ctx::cookie);
        if (key != null) {
            store.deleteSession(Secrets.sha256(key));
            loggedOut.run();
        }
        boolean secure = Client.of(ctx).secure();
        for (String name : new String[] {Authenticator.SESSION_COOKIE, Authenticator.AWX_SESSION_COOKIE}) {
            if (ctx.cookie(name) != null) ctx.cookie(new Cookie(name, "", "/", 0, secure, true, null, SameSite.LAX));
        }
        ctx.redirect(PAGE, HttpStatus.FOUND);
    }

    /** {@code next} when it is a local path ("/..." but not "//host" or "/\host"), else the jobs page. */
    static String safeNext(String next) {
        if (next == null || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
        for (char c : next.toCharArray()) {
            if (c < 0x21 || c == 0x7f || c == '\\') return "/";
        }
        return next;
    }
}
