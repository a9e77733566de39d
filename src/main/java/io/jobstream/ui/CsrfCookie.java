package io.jobstream.ui;

import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import io.jobstream.auth.Client;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Gives each browser the {@code csrftoken} cookie that AWX's websocket protocol asks it to echo as
 * {@code xrftoken} (reference §4.2). It must be readable by scripts, so it is deliberately not HttpOnly;
 * SameSite=Lax keeps other sites from sending it along. A cookie the browser already holds is kept, so every tab
 * and an open websocket keep agreeing on the value.
 *
 * <p>Thread-safe ({@link SecureRandom} is).
 */
final class CsrfCookie {
    static final String NAME = "csrftoken";
    /** One year, as Django's CSRF cookie: the token is not a secret from the page, only from other sites. */
    private static final int MAX_AGE_SECONDS = 365 * 24 * 3600;

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{16,128}");

    private final SecureRandom random;

    CsrfCookie(SecureRandom random) {
        this.random = random;
    }

    /** Sets a fresh token unless the request carries a well-formed one; returns the token now in force. */
    String ensure(Context ctx) {
        String current = ctx.cookie(NAME);
        if (current != null && VALID.matcher(current).matches()) return current;
        String token = newToken();
        boolean secure = Client.of(ctx).secure();
        ctx.cookie(new Cookie(NAME, token, "/", MAX_AGE_SECONDS, secure, false, null, SameSite.LAX));
        return token;
    }

    String newToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
