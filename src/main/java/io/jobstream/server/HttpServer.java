package io.jobstream.server;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.config.JettyConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.HandlerType;
import io.javalin.router.ParsedEndpoint;
import io.javalin.security.Roles;
import io.javalin.security.RouteRole;
import io.javalin.websocket.WsHandlerEntry;
import io.javalin.websocket.WsHandlerType;
import io.jobstream.auth.AuthFilter;
import io.jobstream.auth.Authenticator;
import io.jobstream.auth.Requests;
import io.jobstream.config.Config;
import io.jobstream.limit.CpuBudget;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one HTTP and websocket server (Javalin on Jetty): the connector (over TLS when configured), the limits
 * that protect it from slow clients, the path spellings that reach a route, and the authentication every route
 * passes first. The routes themselves are the endpoints', registered in the order given. Started and stopped by
 * {@link Server} on its owner's thread; {@link #roles} and the accessors are safe from any thread once started.
 */
final class HttpServer {
    private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

    private final Config config;
    private final Tls tls;
    private final AuthFilter authFilter;
    private final Consumer<JettyConfig> websockets;
    private final List<Consumer<RoutesConfig>> routes;
    private Javalin javalin;

    /**
     * @param tlsOrNull  the node's TLS identity, or null for plain http
     * @param websockets the websocket endpoint's own Jetty settings (message size, idle timeout)
     * @param routes     each endpoint's {@code register}, in order
     */
    HttpServer(
            Config config,
            Tls tlsOrNull,
            Authenticator authenticator,
            MeterRegistry registry,
            Consumer<JettyConfig> websockets,
            List<Consumer<RoutesConfig>> routes) {
        this.config = config;
        this.tls = tlsOrNull;
        this.authFilter = new AuthFilter(
                authenticator,
                this::roles,
                config.http().maxRequestsPerUser(),
                new CpuBudget(
                        config.http().cpuPerUser().cores(),
                        config.http().cpuPerUser().burst().toNanos(),
                        System::nanoTime),
                registry);
        this.websockets = websockets;
        this.routes = List.copyOf(routes);
    }

    /**
     * Fails at once, naming the port, when another program listens on it: found before the database starts for
     * nothing (a few seconds), and without the stack trace Javalin logs for a failed bind. Bound as Jetty binds
     * (address reuse on), so a port whose last connections linger in TIME_WAIT is not taken for busy.
     */
    static void checkPortFree(String host, int port) {
        if (port == 0) return;
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            throw new UncheckedIOException("port " + port + " on " + host + " is in use", e);
        } catch (IOException e) { // an unknown host and the like: Jetty's bind says it in its own words
            log.debug("could not probe port {} on {}: {}", port, host, e.toString());
        }
    }

    HttpServer start() {
        javalin = Javalin.create(this::configure)
                .start(config.http().host(), config.http().port());
        return this;
    }

    private void configure(JavalinConfig cfg) {
        cfg.startup.showJavalinBanner = false;
        cfg.http.maxRequestSize = config.ingest().maxRequestBytes();
        // Slow clients: a connection silent for the idle timeout is closed, and a body trickling in slower than the
        // minimum rate is cut off with 408, so a slowloris cannot hold Jetty's threads or connections for long.
        // (These cover HTTP; websockets have their own ping and outbox rules.)
        cfg.jetty.modifyHttpConfiguration(h -> {
            h.setIdleTimeout(config.http().idleTimeout().toMillis());
            h.setMinRequestDataRate(config.http().minRequestRate());
        });
        // a body read to its declared length is not asked for its end: Jetty's rate check on that read failed small
        // bodies that had arrived whole when the reading thread paused (WholeBodyFilter)
        cfg.jetty.modifyServletContextHandler(
                h -> h.addFilter(new FilterHolder(new WholeBodyFilter()), "/*", EnumSet.of(DispatcherType.REQUEST)));
        websockets.accept(cfg.jetty);
        // One connector serves HTTP and websockets, over TLS when configured (Javalin adds its own plain connector
        // only when none is configured); its idle timeout closes connections that stall.
        cfg.jetty.addConnector((server, httpConfig) -> {
            ServerConnector connector = tls != null
                    ? tls.connector(server, httpConfig)
                    : new ServerConnector(server, new HttpConnectionFactory(httpConfig));
            connector.setHost(config.http().host());
            connector.setPort(config.http().port());
            connector.setIdleTimeout(config.http().idleTimeout().toMillis());
            // who the client is (http.trusted-proxies), decided once per request before any handler; last, so that
            // under TLS it sees the scheme the TLS customizer set
            connector
                    .getConnectionFactory(HttpConnectionFactory.class)
                    .getHttpConfiguration()
                    .addCustomizer(new ForwardedClient(config.http().trustedProxies()));
            return connector;
        });
        // Spellings that reach a route (docs/OPERATIONS.md "Routes and their rules"): a trailing slash is optional and
        // repeated slashes count as one, as proxies and hand-typed URLs produce both; case matters, as in AWX. Each
        // spelling maps to the route itself, so the rule declared with it (auth.Access) is the one enforced.
        cfg.router.ignoreTrailingSlashes = true;
        cfg.router.treatMultipleSlashesAsSingleSlash = true;
        cfg.router.caseInsensitiveRoutes = false;
        // every answer, routes' and refusals' alike: a browser never second-guesses a type we declare (a job's
        // text/plain output sniffed as HTML would run its scripts on our origin)
        cfg.routes.before(ctx -> ctx.header("X-Content-Type-Options", "nosniff"));
        cfg.routes.beforeMatched(authFilter::handle); // every route below sees the principal its rule requires
        cfg.routes.error(404, authFilter::unmatched); // no route: authenticated first, then 404
        // a body Jetty cut off (slower than http.min-request-rate, or broken off): its own status, not a 500
        cfg.routes.exception(
                BadMessageException.class,
                (e, ctx) -> Requests.detail(ctx, e.getCode(), "request body not received: " + e.getReason()));
        cfg.routes.after(authFilter::charge); // each request's CPU to its user's share (http.max-cpu-per-user)
        routes.forEach(r -> r.accept(cfg.routes));
    }

    /** The roles of the GET route {@code path} matches, empty when none (how a HEAD request is judged). */
    private Set<RouteRole> roles(String path) {
        ParsedEndpoint e = javalin.unsafe.internalRouter.findFirstHttpHandlerEntry(HandlerType.GET, path);
        Roles roles = e == null ? null : e.endpoint.metadata(Roles.class);
        return roles == null ? Set.of() : roles.getRoles();
    }

    /** Every route served, read from the router itself. */
    List<Server.Route> routes() {
        List<Server.Route> all = new ArrayList<>();
        for (ParsedEndpoint e : javalin.unsafe.internalRouter.allHttpHandlers()) {
            if (!e.endpoint.method.isHttpMethod()) continue; // before/after handlers: not routes
            Roles roles = e.endpoint.metadata(Roles.class);
            all.add(new Server.Route(
                    e.endpoint.method.name(), e.endpoint.path, roles == null ? Set.of() : roles.getRoles()));
        }
        for (WsHandlerEntry e : javalin.unsafe.internalRouter.allWsHandlers()) {
            if (e.getType() == WsHandlerType.WEBSOCKET)
                all.add(new Server.Route("WEBSOCKET", e.getPath(), e.getRoles()));
        }
        return all;
    }

    int port() {
        return javalin.port();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:8052/}. */
    URI uri() {
        return URI.create((tls != null ? "https://" : "http://") + config.http().host() + ":" + port() + "/");
    }

    void stop() {
        if (javalin != null) javalin.stop();
    }
}
