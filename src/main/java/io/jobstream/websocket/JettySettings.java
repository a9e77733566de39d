package io.jobstream.websocket;

import io.javalin.config.JettyConfig;
import io.jobstream.config.Config;
import org.eclipse.jetty.ee10.servlet.SessionHandler;
import org.eclipse.jetty.session.DefaultSessionCache;
import org.eclipse.jetty.session.NullSessionDataStore;
import org.eclipse.jetty.session.SessionCache;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;

/**
 * Jetty's side of the websocket endpoint, set on the node's Jetty before it starts ({@link WebsocketEndpoint#configure}):
 * message and idle limits, each connection's output buffer, no compression, and HTTP sessions that end with their
 * request.
 */
final class JettySettings {
    /**
     * Each connection's output buffer in Jetty, where a coalesced flush's frames are copied ({@link
     * FrameSender.Jetty#sendEvents}): Jetty batches frames under a quarter of it and writes when it is full, so at
     * Jetty's default (4 KB) only frames under 1 KB would be coalesced, a handful per write. Taken from Jetty's pool
     * while a flush is being copied and written, given back after, so idle connections hold none.
     */
    static final int OUTPUT_BUFFER_BYTES = 32 * 1024;

    /** The websocket extension this node declines (see {@link #apply}). */
    static final String PER_MESSAGE_DEFLATE = "permessage-deflate";

    private final Config.WsLimits limits;
    private volatile DefaultSessionCache httpSessions; // set by apply

    JettySettings(Config.WsLimits limits) {
        this.limits = limits;
    }

    /**
     * Jetty's side of the limits: incoming messages over {@code ws.max-message-size} close the connection with 1009
     * (as autobahn, Daphne's websocket library, does), and a connection on which nothing moves for
     * {@code ws.idle-timeout} (nothing read, and writes stuck because the browser stopped reading) is closed; the
     * pings keep a quiet, healthy one moving. A handshake that never completes is an HTTP request, cut off by
     * {@code http.idle-timeout}.
     *
     * <p>And no {@code permessage-deflate}, which Jetty agrees to whenever a client offers it (every browser does):
     * it would compress each frame again for each connection, undoing "encoded once for all subscribers" (3.7 times
     * the node's CPU for 90 browser-like viewers of one job at 1,000 events/s, about 10 µs more per frame), and hold
     * a zlib compressor per connection outside the heap, so memory would grow with connections, not with
     * configuration. AWX's Daphne does not compress either.
     */
    void apply(JettyConfig jetty) {
        jetty.modifyWebSocketServletFactory(factory -> {
            factory.setMaxTextMessageSize(limits.maxMessageBytes());
            factory.setMaxBinaryMessageSize(limits.maxMessageBytes());
            factory.setIdleTimeout(limits.idleTimeout());
            factory.setOutputBufferSize(OUTPUT_BUFFER_BYTES);
        });
        jetty.modifyServletContextHandler(context -> {
            SessionHandler sessions = new SessionHandler();
            httpSessions = requestScoped(sessions);
            context.setSessionHandler(sessions);
            context.addEventListener(new LifeCycle.Listener() {
                @Override
                public void lifeCycleStarted(LifeCycle started) {
                    // the context starts before the connectors open, so no connection has negotiated it yet
                    WebSocketServerComponents.ensureWebSocketComponents(context.getServer(), context)
                            .getExtensionRegistry()
                            .unregister(PER_MESSAGE_DEFLATE);
                }
            });
        });
    }

    /**
     * HTTP sessions that end with their request. Javalin asks every websocket upgrade for its HTTP session (to copy the
     * session's attributes into the websocket's context), which makes one, and Jetty's default keeps sessions in
     * memory with no expiry: every handshake, a reconnecting loop's too, left a session behind for good (5,000
     * handshakes, 5,000 sessions). The node keeps nothing in HTTP sessions (its logins are its own, {@code auth}), so
     * here a session is dropped from memory when its request ends (an upgraded one's when its websocket closes), is
     * stored nowhere, and sets no cookie.
     */
    private static DefaultSessionCache requestScoped(SessionHandler sessions) {
        DefaultSessionCache cache = new DefaultSessionCache(sessions);
        cache.setEvictionPolicy(SessionCache.EVICT_ON_SESSION_EXIT);
        cache.setSessionDataStore(new NullSessionDataStore());
        sessions.setSessionCache(cache);
        sessions.setUsingCookies(false);
        return cache;
    }

    /** HTTP sessions in memory (one per open websocket, see {@link #apply}); for tests. */
    long httpSessionsHeld() {
        DefaultSessionCache cache = httpSessions;
        return cache == null ? 0 : cache.getSessionsCurrent();
    }
}
