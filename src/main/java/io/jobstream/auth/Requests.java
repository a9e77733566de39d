package io.jobstream.auth;

import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;

/** Reading the principal the {@link AuthFilter} left on a request, and AWX's refusal bodies. */
public final class Requests {
    static final String PRINCIPAL = "jobstream.principal";
    public static final String NOT_AUTHENTICATED = "Authentication credentials were not provided.";
    public static final String FORBIDDEN = "You do not have permission to perform this action.";

    private Requests() {}

    /** The request's principal; the filter guarantees one on every route that is not open. */
    public static Principal principal(Context ctx) {
        Principal p = ctx.attribute(PRINCIPAL);
        if (p == null)
            throw new IllegalStateException("no principal on " + ctx.path() + ": route not behind AuthFilter");
        return p;
    }

    /** Leaves the authenticated principal on the request (the filter does; tests of single route sets may too). */
    public static void attach(Context ctx, Principal principal) {
        ctx.attribute(PRINCIPAL, principal);
    }

    /** Writes {@code {"detail": "..."}} with the status, as DRF does. */
    public static void detail(Context ctx, int status, String detail) {
        ctx.status(status)
                .contentType("application/json")
                .result(("{\"detail\":" + quote(detail) + "}").getBytes(StandardCharsets.UTF_8));
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
