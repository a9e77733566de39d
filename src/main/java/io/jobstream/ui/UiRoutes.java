package io.jobstream.ui;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.jobstream.auth.Access;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * The web UI's routes: {@code GET /} (jobs list), {@code GET /jobs/{id}} (one job's live output), the pages that
 * explain a run ({@code /jobs/{id}/hosts}: host x task matrix, {@code /jobs/{id}/timeline}, {@code
 * /jobs/{id}/compare/} and {@code /jobs/{id}/compare/{other}}), {@code GET /login/} (the login form) and
 * {@code GET /static/...} (CSS/JS from the classpath folder {@code ui/}).
 *
 * <p>Pages are plain HTML that fetch everything else from the REST API and the websocket, so they are the same
 * bytes for every job and user. Each page response makes sure the browser holds a {@code csrftoken} cookie:
 * the websocket protocol (AWX's) rejects messages whose {@code xrftoken} does not echo it.
 *
 * <p>Thread-safe; handlers run on Javalin's HTTP worker threads. Holds no resources, so nothing to close.
 */
public final class UiRoutes {
    private static final Pattern JOB_ID = Pattern.compile("[1-9][0-9]{0,18}");

    /**
     * Pages may run only our own scripts and styles and talk only to their own origin (REST and websocket).
     * Inline style attributes stay forbidden; colours set through the CSSOM ({@code el.style.color}) are allowed.
     *
     * <p>One exception, by hash: AWX's debug.js console script (the job event performance guide) appends a gauge
     * whose button has {@code onclick="listenJob()"} and two inline style attributes. {@code 'unsafe-hashes'} with
     * their SHA-256 lets exactly those three strings through, so the script works pasted unmodified, while any
     * other inline handler or style stays blocked.
     */
    static final String PAGE_CSP = "default-src 'self'; "
            + "script-src 'self' 'unsafe-hashes' 'sha256-2PH4jDB/c1c+Oh7NDWnmcB4AILTDWFw158p2GuCCbEI='; "
            + "style-src 'self' 'unsafe-hashes' 'sha256-j14wIZY8troTg32KJMOIzbMxzJCf+o5NMzxiJ3uadMk=' "
            + "'sha256-HEjdyTtpkvLZ+CDnUIjAT2JEs8TLKTRdl2yq5SJQTeU='; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /** jQuery from its WebJar (see the pom for why it is there); the folder names the version the pom pins. */
    static final String JQUERY_DIR = "META-INF/resources/webjars/jquery/3.7.1/dist/";

    private final ClasspathAssets assets;
    private final ClasspathAssets jquery;
    private final CsrfCookie csrf;

    public UiRoutes() {
        this(new ClasspathAssets("ui/", UiRoutes.class.getClassLoader()), new CsrfCookie(new SecureRandom()));
    }

    UiRoutes(ClasspathAssets assets, CsrfCookie csrf) {
        this.assets = assets;
        this.jquery = new ClasspathAssets(JQUERY_DIR, UiRoutes.class.getClassLoader());
        this.csrf = csrf;
    }

    public void register(RoutesConfig routes) {
        routes.get("/", ctx -> page(ctx, "index.html"), Access.PAGE);
        // the form posts to auth.LoginRoutes; the page itself is as static as the others
        routes.get("/login/", ctx -> page(ctx, "login.html"), Access.ANONYMOUS);
        routes.get("/jobs/{id}", ctx -> jobPage(ctx, "job.html"), Access.PAGE);
        routes.get("/jobs/{id}/hosts", ctx -> jobPage(ctx, "hosts.html"), Access.PAGE);
        routes.get("/jobs/{id}/timeline", ctx -> jobPage(ctx, "timeline.html"), Access.PAGE);
        routes.get("/jobs/{id}/compare/", ctx -> jobPage(ctx, "compare.html"), Access.PAGE);
        routes.get(
                "/jobs/{id}/compare/{other}",
                ctx -> {
                    if (!JOB_ID.matcher(ctx.pathParam("other")).matches()) {
                        ctx.status(HttpStatus.NOT_FOUND).result("Not found: job ids are positive integers");
                        return;
                    }
                    jobPage(ctx, "compare.html");
                },
                Access.PAGE);
        routes.get("/static/vendor/jquery/<path>", ctx -> jquery.serve(ctx, ctx.pathParam("path")), Access.ANONYMOUS);
        routes.get("/static/<path>", ctx -> assets.serve(ctx, ctx.pathParam("path")), Access.ANONYMOUS);
    }

    /**
     * A page about one job: the same bytes for every job (the script reads the id from the address), served only for
     * ids that can exist. Whether the user may see the job is the API's answer, which the page shows.
     */
    private void jobPage(Context ctx, String name) {
        if (!JOB_ID.matcher(ctx.pathParam("id")).matches()) {
            ctx.status(HttpStatus.NOT_FOUND).result("Not found: job ids are positive integers");
            return;
        }
        page(ctx, name);
    }

    private void page(Context ctx, String name) {
        csrf.ensure(ctx);
        ctx.header("Content-Security-Policy", PAGE_CSP);
        ctx.header("Referrer-Policy", "same-origin");
        // the cookie may be set on this response, and a cached page would skip that
        ctx.header("Cache-Control", "no-store");
        assets.writePage(ctx, name);
    }
}
