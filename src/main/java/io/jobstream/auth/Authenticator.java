package io.jobstream.auth;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a request's credentials into a {@link Principal}: an {@code Authorization: Bearer} token (API or ingest), HTTP
 * Basic with a user's password (as AWX allows), or the {@code sessionid} cookie of a login. An Authorization header
 * wins over the cookie. Failures are counted in {@code auth_failures_total{reason}} and logged at debug with the
 * username at most: never a password, token or header.
 *
 * <p>Thread-safe; called on Jetty's threads, where it does one store lookup per request (and, for Basic, the slow
 * password hash only when {@link BasicCache} has not seen the credential recently).
 */
public final class Authenticator {
    private static final Logger log = LoggerFactory.getLogger(Authenticator.class);
    public static final String SESSION_COOKIE = "sessionid";

    /** The outcome: a principal, no credentials at all, or credentials that failed (with the metric's reason). */
    public sealed interface Result {
        record Ok(Principal principal) implements Result {}

        record Missing() implements Result {}

        record Failed(String reason) implements Result {}

        /** The store could not be asked and the credential was not seen recently: try again later (503). */
        record Unavailable() implements Result {}
    }

    /**
     * After a store failure, how long requests go straight to the recent-credentials fallback: asking a database that
     * is down costs each request the pool's 5 s connection timeout, which would throttle every emitter to a crawl.
     */
    private static final Duration STORE_BACKOFF = Duration.ofSeconds(10);
    private volatile Instant storeDownUntil = Instant.MIN;

    private final AuthStore store;
    private final PasswordHasher hasher;
    private final BasicCache cache;
    private final Clock clock;
    private final MeterRegistry registry;
    /** Verified against when the username is unknown, so that the answer takes as long as for a wrong password. */
    private final String dummyHash;

    public Authenticator(AuthStore store, PasswordHasher hasher, BasicCache cache, Clock clock, MeterRegistry registry) {
        this.store = store;
        this.hasher = hasher;
        this.cache = cache;
        this.clock = clock;
        this.registry = registry;
        this.dummyHash = PasswordHasher.encode("not a password", "jobstreamdummysalt0000", PasswordHasher.ITERATIONS);
    }

    public Result authenticate(String authorization, String sessionCookie) {
        String credential = authorization != null && !authorization.isBlank() ? authorization
                : sessionCookie != null && !sessionCookie.isEmpty() ? "sessionid=" + sessionCookie : null;
        Instant now = clock.instant();
        if (credential != null && now.isBefore(storeDownUntil)) return fallback(credential);
        Result r;
        try {
            r = resolve(authorization, sessionCookie);
        } catch (RuntimeException e) {
            storeDownUntil = clock.instant().plus(STORE_BACKOFF); // from now, after the (slow) failure
            log.warn("cannot check credentials, the user store failed: {}; accepting only credentials seen in the last"
                    + " auth.basic-cache period", e.getMessage());
            return credential == null ? new Result.Missing() : fallback(credential);
        }
        if (r instanceof Result.Ok ok && credential != null) cache.rememberPrincipal(credential, ok.principal());
        if (r instanceof Result.Failed f) {
            failed(f.reason());
            if (credential != null) cache.forgetPrincipal(credential);
        }
        return r;
    }

    private Result fallback(String credential) {
        Principal p = cache.recentPrincipal(credential);
        if (p != null) return new Result.Ok(p);
        failed("unavailable");
        return new Result.Unavailable();
    }

    /** Counts a refusal decided elsewhere (CSRF, scope, permission) under the same metric. */
    public void failed(String reason) {
        registry.counter(Metrics.AUTH_FAILURES, "reason", reason).increment();
    }

    private Result resolve(String authorization, String sessionCookie) {
        if (authorization != null && !authorization.isBlank()) {
            String[] parts = authorization.trim().split("\\s+", 2);
            if (parts.length != 2) return new Result.Failed("malformed");
            if (parts[0].equalsIgnoreCase("Bearer")) return bearer(parts[1]);
            if (parts[0].equalsIgnoreCase("Basic")) return basic(parts[1]);
            return new Result.Failed("malformed");
        }
        if (sessionCookie != null && !sessionCookie.isEmpty()) {
            Optional<User> user = store.sessionUser(Secrets.sha256(sessionCookie), clock.instant());
            return user.<Result>map(u -> new Result.Ok(Principal.user(u, Principal.Via.SESSION)))
                    .orElseGet(() -> new Result.Failed("bad_session"));
        }
        return new Result.Missing();
    }

    private Result bearer(String secret) {
        Optional<Token> token = store.token(Secrets.sha256(secret.trim()), clock.instant());
        if (token.isEmpty()) return new Result.Failed("bad_token");
        Token t = token.get();
        if (t.kind().equals(Token.INGEST)) {
            User u = t.user();
            return new Result.Ok(new Principal(u == null ? 0 : u.id(), u == null ? "" : u.username(), false,
                    Principal.Via.INGEST_TOKEN, t.jobId(), t.id()));
        }
        User u = t.user();
        return new Result.Ok(new Principal(u.id(), u.username(), u.superuser(), Principal.Via.TOKEN, null, t.id()));
    }

    private Result basic(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return new Result.Failed("malformed");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) return new Result.Failed("malformed");
        return check(decoded.substring(0, colon), decoded.substring(colon + 1), Principal.Via.BASIC);
    }

    /** The login form: the user for this username and password, else why not; failures are counted. */
    public Result password(String username, String password) {
        Result r = check(username, password, Principal.Via.SESSION);
        if (r instanceof Result.Failed f) failed(f.reason());
        return r;
    }

    /** {@code unknown_user} and {@code bad_password} are told apart only in the metric; clients see the same answer. */
    private Result check(String username, String password, Principal.Via via) {
        Optional<User> user = store.userByName(username);
        if (user.isEmpty()) {
            hasher.verify(password, dummyHash);
            log.debug("authentication failed: unknown user");
            return new Result.Failed("unknown_user");
        }
        User u = user.get();
        if (!cache.contains(username, password, u.passwordHash())) {
            if (!hasher.verify(password, u.passwordHash())) {
                log.debug("authentication failed: wrong password for user id {}", u.id());
                return new Result.Failed("bad_password");
            }
            cache.put(username, password, u.passwordHash());
        }
        return new Result.Ok(Principal.user(u, via));
    }
}
