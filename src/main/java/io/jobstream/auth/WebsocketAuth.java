package io.jobstream.auth;

import io.javalin.http.Context;
import io.javalin.websocket.WsConnectContext;
import java.net.URI;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Authenticates a websocket handshake as the REST side does (session cookie, bearer token or Basic, as AWX accepts on
 * its websocket), for {@code websocket.WebsocketEndpoint}'s authenticator. Ingest tokens do not open websockets.
 *
 * <p>A handshake authenticated by the session cookie must come from a page of this site: browsers send cookies with
 * cross-site websocket handshakes (SameSite=Lax does not cover them), so another site's script could otherwise open
 * a socket as the user (cross-site websocket hijacking). The {@code Origin}, which browsers always send on a
 * websocket handshake and scripts cannot forge, must then name this host. Non-browser clients send no Origin.
 */
public final class WebsocketAuth {
    private final Authenticator authenticator;

    public WebsocketAuth(Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    /**
     * A websocket's user, and whether the handshake's credentials have been withdrawn since: {@code revoked} asks the
     * store again (one lookup; Basic within {@code auth.basic-cache}) and is false while the store cannot answer.
     */
    public record Login(long userId, BooleanSupplier revoked) {}

    public Optional<Login> authenticate(WsConnectContext ctx) {
        String authorization = ctx.header("Authorization");
        String session = Authenticator.sessionKey(ctx::cookie);
        String source = Client.of(ctx).address();
        Authenticator.Result r = authenticator.authenticate(authorization, session, source);
        if (r instanceof Authenticator.Result.Missing) authenticator.failed("missing");
        if (!(r instanceof Authenticator.Result.Ok ok)) return Optional.empty();
        Principal p = ok.principal();
        if (!p.isUser()) {
            authenticator.failed("ingest_token");
            return Optional.empty();
        }
        if (p.via() == Principal.Via.SESSION
                && !sameOrigin(
                        ctx.header("Origin"), ctx.header("Host"), Client.of(ctx).scheme())) {
            authenticator.failed("origin");
            return Optional.empty();
        }
        long userId = p.userId();
        // the credentials stay in this closure only, for as long as the connection is open; never logged
        return Optional.of(new Login(userId, () -> revoked(authorization, session, source, userId)));
    }

    /**
     * For a long-lived HTTP response (a server-sent-events stream) the AuthFilter let through as {@code userId}:
     * whether the credentials it came with have been withdrawn since, as {@link Login#revoked} for a websocket.
     */
    public BooleanSupplier revocation(Context ctx, long userId) {
        String authorization = ctx.header("Authorization");
        String session = ctx.cookie(Authenticator.SESSION_COOKIE);
        String source = Client.of(ctx).address();
        return () -> revoked(authorization, session, source, userId);
    }

    private boolean revoked(String authorization, String session, String source, long userId) {
        Authenticator.Result r = authenticator.authenticate(authorization, session, source);
        // not checked now (store down, or password checks throttled): keep the connection until the next check
        if (r instanceof Authenticator.Result.Unavailable || r instanceof Authenticator.Result.Throttled) return false;
        return !(r instanceof Authenticator.Result.Ok ok) || ok.principal().userId() != userId;
    }

    /**
     * Whether a browser's {@code Origin} names this site: the same host and port as the request's {@code Host}. When
     * the client reached us over https (directly, or at a trusted proxy) the origin must be https too, so a page
     * served over plain http on the same name (which a network attacker can write) is another site. Over http the
     * scheme is not compared: behind a TLS-terminating proxy that is not trusted, an https page arrives as http, and
     * a {@code Host} without a port is then taken at the origin's default port. Over https it is 443, as for the
     * browser: {@code https://host:8443} is not the site at {@code Host: host}.
     */
    static boolean sameOrigin(String origin, String host, String clientScheme) {
        if (origin == null) return true; // not a browser
        if (host == null) return false;
        try {
            URI o = URI.create(origin);
            if (o.getHost() == null) return false;
            String scheme = o.getScheme() == null ? "" : o.getScheme().toLowerCase(java.util.Locale.ROOT);
            boolean https = "https".equals(clientScheme);
            if (https && !scheme.equals("https")) return false;
            int port = o.getPort() >= 0 ? o.getPort() : scheme.equals("https") ? 443 : 80;
            String expected = o.getHost() + ":" + port;
            String h = host.contains(":") && !host.endsWith("]") ? host : host + ":" + (https ? 443 : port);
            return expected.equalsIgnoreCase(h);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
