package io.jobstream.auth;

import io.javalin.http.Context;
import io.javalin.websocket.WsContext;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * Who is at the other end of a request or websocket: the client's address and the scheme it used. Behind a trusted
 * reverse proxy ({@code http.trusted-proxies}) these are what the proxy reports; otherwise the TCP peer's and the
 * connection's own. The server computes it once per request, before any route runs, and leaves it on the request;
 * every consumer reads it here (login throttles, the failing-address limit, same-origin checks, Secure cookies,
 * websocket and event-stream identities in stats), so they can never disagree about who the client is.
 *
 * @param address   the client's IP address as text ({@link java.net.InetAddress#getHostAddress()})
 * @param port      the client's port, 0 when a proxy named the client (proxies do not report it)
 * @param scheme    {@code http} or {@code https}, as the client sees the node
 * @param forwarded whether a trusted proxy named the client (else it is the TCP peer)
 */
public record Client(String address, int port, String scheme, boolean forwarded) {
    /** The request attribute the server leaves this under. */
    public static final String ATTRIBUTE = "jobstream.client";

    /** The client of an HTTP request (for a server without the customizer, as in route tests: the TCP peer). */
    public static Client of(Context ctx) {
        Client c = ctx.attribute(ATTRIBUTE);
        if (c != null) return c;
        return new Client(
                ctx.req().getRemoteAddr(),
                ctx.req().getRemotePort(),
                ctx.scheme().toLowerCase(Locale.ROOT),
                false);
    }

    /** The client of a websocket, as its handshake request had it. */
    public static Client of(WsContext ctx) {
        Client c = ctx.attribute(ATTRIBUTE);
        if (c != null) return c;
        return ctx.session.getRemoteSocketAddress() instanceof InetSocketAddress a && a.getAddress() != null
                ? new Client(a.getAddress().getHostAddress(), a.getPort(), "http", false)
                : new Client("", 0, "http", false);
    }

    /** Whether the client reached the node over TLS (directly or at a trusted proxy): cookies are then Secure. */
    public boolean secure() {
        return scheme.equals("https");
    }

    /** For stats and logs: {@code address:port}, or {@code address} alone when a proxy named the client. */
    public String remote() {
        if (port == 0) return address;
        return address.indexOf(':') >= 0 ? "[" + address + "]:" + port : address + ":" + port;
    }
}
