package io.jobstream.auth;

import io.javalin.websocket.WsConnectContext;
import java.net.URI;
import java.util.OptionalLong;

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

    public OptionalLong authenticate(WsConnectContext ctx) {
        Authenticator.Result r = authenticator.authenticate(ctx.header("Authorization"),
                ctx.cookie(Authenticator.SESSION_COOKIE));
        if (r instanceof Authenticator.Result.Missing) authenticator.failed("missing");
        if (!(r instanceof Authenticator.Result.Ok ok)) return OptionalLong.empty();
        Principal p = ok.principal();
        if (!p.isUser()) {
            authenticator.failed("ingest_token");
            return OptionalLong.empty();
        }
        if (p.via() == Principal.Via.SESSION && !sameOrigin(ctx.header("Origin"), ctx.header("Host"))) {
            authenticator.failed("origin");
            return OptionalLong.empty();
        }
        return OptionalLong.of(p.userId());
    }

    static boolean sameOrigin(String origin, String host) {
        if (origin == null) return true; // not a browser
        if (host == null) return false;
        try {
            URI o = URI.create(origin);
            if (o.getHost() == null) return false;
            String scheme = o.getScheme() == null ? "" : o.getScheme();
            int port = o.getPort() >= 0 ? o.getPort() : scheme.equals("https") ? 443 : 80;
            String expected = o.getHost() + ":" + port;
            String h = host.contains(":") && !host.endsWith("]") ? host : host + ":" + port;
            return expected.equalsIgnoreCase(h);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
