package io.jobstream.auth;

import io.javalin.security.RouteRole;
import java.util.Set;

/**
 * Who may reach a route, declared where the route is registered ({@code routes.get(path, handler, Access.USER)}) and
 * enforced in one place, {@link AuthFilter}, from the route Javalin matched. The rule travels with the route, so it
 * holds for every spelling the router maps to that route (trailing slash, {@code //}) and for HEAD, which Javalin
 * answers with the GET route. Per-object checks (this job, this user, this team) stay in the handlers.
 */
public enum Access implements RouteRole {
    /** No credentials needed; shows states and counts, never job content or error texts. */
    ANONYMOUS,
    /** A UI page: any user; without credentials a browser is sent to the login page. */
    PAGE,
    /** Any user (session, API token or Basic); not an ingest token. */
    USER,
    /** Superusers only. */
    ADMIN,
    /** Users and ingest tokens: which jobs a principal may write is the handler's check. */
    INGEST,
    /** A websocket handshake, which authenticates itself (and closes with 1008 when it cannot). */
    WEBSOCKET,
    /**
     * Any user, as {@link #USER}, on a response that lasts as long as a job runs (server-sent events): not held to
     * {@code http.max-requests-per-user}, which would let a few open streams lock their user out of the API; the
     * route counts it with the user's websockets instead ({@code ws.max-connections-per-user}).
     */
    STREAM;

    /** The one rule among a route's roles, or null when it declares none (or more than one): refused, fail closed. */
    public static Access of(Set<RouteRole> roles) {
        if (roles == null || roles.size() != 1) return null;
        return roles.iterator().next() instanceof Access a ? a : null;
    }
}
