package io.jobstream.ui;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * The web UI's routes: {@code GET /} (jobs list), {@code GET /jobs/{id}} (one job's live output) and
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
     */
    static final String PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private final ClasspathAssets assets;
    private final CsrfCookie csrf;

    public UiRoutes() {
        this(new ClasspathAssets("ui/", UiRoutes.class.getClassLoader()), new CsrfCookie(new SecureRandom()));
    }

    UiRoutes(ClasspathAssets assets, CsrfCookie csrf) {
        this.assets = assets;
        this.csrf = csrf;
    }

    public void register(RoutesConfig routes) {
        routes.get("/", ctx -> page(ctx, "index.html"));
        routes.get("/jobs/{id}", ctx -> {
            if (!JOB_ID.matcher(ctx.pathParam("id")).matches()) {
                ctx.status(HttpStatus.NOT_FOUND).result("Not found: job ids are positive integers");
                return;
            }
            page(ctx, "job.html");
        });
        routes.get("/static/<path>", ctx -> assets.serve(ctx, ctx.pathParam("path")));
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
