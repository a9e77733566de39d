package io.jobstream.auth;

import io.jobstream.config.Config.AuthLimits;
import io.jobstream.limit.Rate;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
    /**
     * AWX's own name for the session cookie (its {@code SESSION_COOKIE_NAME} since 21.x), which awxkit's clients send
     * ({@code WSClient}'s default, and the CLI after a login at {@code /api/login/}); a session works under either.
     */
    public static final String AWX_SESSION_COOKIE = "awx_sessionid";

    /**
     * The request's session key: {@code sessionid}, else {@code awx_sessionid}; null when neither is set. A value
     * wrapped in double quotes (RFC 6265 allows it, and awxkit's {@code WSClient} writes {@code name="value"}) is
     * unwrapped.
     */
    public static String sessionKey(java.util.function.Function<String, String> cookie) {
        String key = cookie.apply(SESSION_COOKIE);
        if (key == null || key.isEmpty()) key = cookie.apply(AWX_SESSION_COOKIE);
        if (key != null && key.length() >= 2 && key.startsWith("\"") && key.endsWith("\""))
            key = key.substring(1, key.length() - 1);
        return key == null || key.isEmpty() ? null : key;
    }

    /** The outcome: a principal, no credentials at all, or credentials that failed (with the metric's reason). */
    public sealed interface Result {
        record Ok(Principal principal) implements Result {}

        record Missing() implements Result {}

        record Failed(String reason) implements Result {}

        /** The store could not be asked and the credential was not seen recently: try again later (503). */
        record Unavailable() implements Result {}

        /**
         * The password was not checked: too many failed attempts from this address or for this username (429), or
         * every hashing slot stayed busy (503). Answer {@code status} with {@code Retry-After: retryAfterSeconds}.
         */
        record Throttled(int status, long retryAfterSeconds, String detail) implements Result {}
    }

    /**
     * After a store failure, how long requests go straight to the recent-credentials fallback: asking a database that
     * is down costs each request the pool's 5 s connection timeout, which would throttle every emitter to a crawl.
     */
    private static final Duration STORE_BACKOFF = Duration.ofSeconds(10);

    private volatile Instant storeDownUntil = Instant.MIN;

    /**
     * How long a request waits for the store to say who it is ({@link CredentialLookups}): past it, the store counts as
     * failed (recent credentials only) until that look-up answers after all or {@link #STORE_BACKOFF} passes.
     */
    static final Duration STORE_WAIT = Duration.ofSeconds(2);

    /** Whether the back-off under way began with a look-up that did not answer (its late answer may end it). */
    private volatile boolean downForSlowness;

    private final CredentialLookups lookups;
    /**
     * The node's own command-line token ({@code <data-dir>/cli-token}) and whom it stands for: accepted when the store
     * does not answer even if it was not used recently, so {@code ./jobstream doctor} works while the database stalls.
     * Null until {@link #trustNodeToken}; forgotten when the store says the token is gone.
     */
    private volatile NodeToken nodeToken;

    private record NodeToken(byte[] hash, Principal principal) {}

    private final AuthStore store;
    private final PasswordHasher hasher;
    private final BasicCache cache;
    private final Clock clock;
    private final MeterRegistry registry;
    /** Verified against when the username is unknown, so that the answer takes as long as for a wrong password. */
    private final String dummyHash;

    private final LoginThrottle throttle;
    private final HashingGate gate;
    /** Failed credentials per client address (auth.failed-requests-per-address); null: no limit. */
    private final Rate failures;
    /** Addresses whose failures are remembered; beyond, the least recently used are forgotten ({@link Rate}). */
    private static final int MAX_ADDRESSES = 100_000;
    /**
     * Password checks under way, by credential key: later identical checks wait for the first one's answer. Holds one
     * entry per check in progress, so it is bounded by the request threads.
     */
    private final Map<String, CompletableFuture<Result>> checking = new ConcurrentHashMap<>();

    /** With {@link AuthLimits#DEFAULTS} for password guessing. */
    public Authenticator(
            AuthStore store, PasswordHasher hasher, BasicCache cache, Clock clock, MeterRegistry registry) {
        this(store, hasher, cache, clock, registry, AuthLimits.DEFAULTS);
    }

    /** @param limits failed password checks per address and per username, and hashing slots */
    public Authenticator(
            AuthStore store,
            PasswordHasher hasher,
            BasicCache cache,
            Clock clock,
            MeterRegistry registry,
            AuthLimits limits) {
        this.throttle = new LoginThrottle(
                limits.failedLoginsPerAddress(), limits.failedLoginsPerUser(), registry, System::nanoTime);
        this.gate = new HashingGate(limits.hashSlots(), limits.hashWait(), registry);
        Counter refused = registry.counter(Metrics.AUTH_THROTTLED, "by", "failing_address");
        int perMinute = limits.failedRequestsPerAddress();
        this.failures = perMinute <= 0
                ? null
                : Rate.bucket(
                        perMinute,
                        Duration.ofMinutes(1),
                        perMinute,
                        MAX_ADDRESSES,
                        System::nanoTime,
                        n -> refused.increment());
        this.lookups = new CredentialLookups(STORE_WAIT, registry.counter(Metrics.AUTH_STORE_TIMEOUTS), () -> {
            // a store that failed outright since keeps its back-off: an old answer does not say it is back
            if (downForSlowness) storeDownUntil = Instant.MIN;
        });
        this.store = store;
        this.hasher = hasher;
        this.cache = cache;
        this.clock = clock;
        this.registry = registry;
        this.dummyHash = PasswordHasher.encode("not a password", "jobstreamdummysalt0000", PasswordHasher.ITERATIONS);
    }

    public Result authenticate(String authorization, String sessionCookie) {
        return authenticate(authorization, sessionCookie, "");
    }

    /**
     * @param source the client's address, for the per-address limit on failed password checks ("" when unknown: those
     *               callers then share one limit)
     */
    public Result authenticate(String authorization, String sessionCookie, String source) {
        String credential = authorization != null && !authorization.isBlank()
                ? authorization
                : sessionCookie != null && !sessionCookie.isEmpty() ? "sessionid=" + sessionCookie : null;
        Instant now = clock.instant();
        if (credential != null && now.isBefore(storeDownUntil)) return fallback(credential);
        if (failures != null && credential != null && cache.recentPrincipal(credential) == null) {
            Result refused = overFailures(source);
            if (refused != null) return refused;
        }
        Result r;
        try {
            r = resolve(authorization, sessionCookie, source);
        } catch (RuntimeException e) {
            downForSlowness = e instanceof CredentialLookups.Slow;
            storeDownUntil = clock.instant().plus(STORE_BACKOFF); // from now, after the (slow) failure
            log.warn(
                    "cannot check credentials, the user store failed: {}; accepting only credentials seen in the last"
                            + " auth.basic-cache period",
                    e.getMessage());
            return credential == null ? new Result.Missing() : fallback(credential);
        }
        if (r instanceof Result.Ok ok && credential != null) cache.rememberPrincipal(credential, ok.principal());
        if (r instanceof Result.Failed f) {
            failed(f.reason());
            if (credential != null) cache.forgetPrincipal(credential);
        }
        chargeFailure(r, source);
        return r;
    }

    /**
     * A 429 when {@code source} is over auth.failed-requests-per-address (counted), else null: asked before a
     * credential is looked up or hashed, so an address that keeps failing costs the node no query and no hash.
     * Credentials verified within auth.basic-cache are not asked about: users behind the same address keep working.
     */
    private Result overFailures(String source) {
        long wait = failures == null ? 0 : failures.check(source, 1);
        if (wait == 0) return null;
        failed("throttled");
        return new Result.Throttled(
                429, wait, "Too many failed credentials from this address; retry in " + wait + " s.");
    }

    /** A failed credential or a throttled password check costs its address one of auth.failed-requests-per-address. */
    private void chargeFailure(Result r, String source) {
        boolean failure = r instanceof Result.Failed || r instanceof Result.Throttled t && t.status() == 429;
        if (failure && failures != null) failures.charge(source, 1);
    }

    private Result fallback(String credential) {
        Principal p = cache.recentPrincipal(credential);
        if (p == null) p = nodeTokenPrincipal(credential);
        if (p != null) return new Result.Ok(p);
        failed("unavailable");
        return new Result.Unavailable();
    }

    private final Map<String, Counter> failureCounters = new ConcurrentHashMap<>();

    private Counter failures(String reason) {
        return failureCounters.computeIfAbsent(reason, r -> registry.counter(Metrics.AUTH_FAILURES, "reason", r));
    }

    /** Counts a refusal decided elsewhere (CSRF, scope, permission) under the same metric. */
    public void failed(String reason) {
        // cached: a throttled guesser's every request ends here, and a meter lookup builds and hashes an id
        failures(reason).increment();
    }

    private Result resolve(String authorization, String sessionCookie, String source) {
        if (authorization != null && !authorization.isBlank()) {
            String[] parts = authorization.trim().split("\\s+", 2);
            if (parts.length != 2) return new Result.Failed("malformed");
            if (parts[0].equalsIgnoreCase("Bearer")) return bearer(parts[1]);
            if (parts[0].equalsIgnoreCase("Basic")) return basic(parts[1], source);
            return new Result.Failed("malformed");
        }
        if (sessionCookie != null && !sessionCookie.isEmpty()) {
            byte[] key = Secrets.sha256(sessionCookie);
            Optional<User> user = lookups.within("a session", () -> store.sessionUser(key, clock.instant()));
            return user.<Result>map(u -> new Result.Ok(Principal.user(u, Principal.Via.SESSION)))
                    .orElseGet(() -> new Result.Failed("bad_session"));
        }
        return new Result.Missing();
    }

    /**
     * Makes {@code secret}, the node's own command-line token, work while the store does not answer (see
     * {@link #nodeToken}); asks the store once now whom it stands for. Called at start, with the database up.
     */
    public void trustNodeToken(String secret) {
        byte[] hash = Secrets.sha256(secret.trim());
        Optional<Token> token = store.token(hash, clock.instant());
        if (token.isEmpty() || token.get().user() == null) return;
        nodeToken = new NodeToken(hash, apiPrincipal(token.get()));
    }

    /** Whom an API token acts as: its user, with the user's rights as they are now. */
    private static Principal apiPrincipal(Token t) {
        User u = t.user();
        return new Principal(u.id(), u.username(), u.superuser(), Principal.Via.TOKEN, null, t.id());
    }

    private Principal nodeTokenPrincipal(String credential) {
        NodeToken known = nodeToken;
        if (known == null || !credential.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
        byte[] hash = Secrets.sha256(credential.substring(7).trim());
        return MessageDigest.isEqual(hash, known.hash()) ? known.principal() : null;
    }

    private Result bearer(String secret) {
        byte[] hash = Secrets.sha256(secret.trim());
        Optional<Token> token = lookups.within("a token", () -> store.token(hash, clock.instant()));
        if (token.isEmpty()) {
            NodeToken known = nodeToken;
            if (known != null && MessageDigest.isEqual(hash, known.hash()))
                nodeToken = null; // revoked: trust it no more
            return new Result.Failed("bad_token");
        }
        Token t = token.get();
        if (t.kind().equals(Token.INGEST)) {
            User u = t.user();
            // the user's superuser flag is read with the token on every request: the token follows its owner's rights
            return new Result.Ok(new Principal(
                    u == null ? 0 : u.id(),
                    u == null ? "" : u.username(),
                    false,
                    Principal.Via.INGEST_TOKEN,
                    t.jobId(),
                    t.id(),
                    u != null && u.superuser(),
                    t.capture()));
        }
        return new Result.Ok(apiPrincipal(t));
    }

    private Result basic(String encoded, String source) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return new Result.Failed("malformed");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) return new Result.Failed("malformed");
        return check(decoded.substring(0, colon), decoded.substring(colon + 1), Principal.Via.BASIC, source);
    }

    /** The login form: the user for this username and password, else why not; failures are counted. */
    public Result password(String username, String password, String source) {
        Result refused = overFailures(source);
        if (refused != null) return refused;
        Result r;
        try {
            r = check(username, password, Principal.Via.SESSION, source);
        } catch (RuntimeException e) { // the store failed or stalled: nothing could be checked, and no session made
            failed("unavailable");
            return new Result.Throttled(
                    503, STORE_BACKOFF.toSeconds(), "The user database does not answer; retry in a few seconds.");
        }
        if (r instanceof Result.Failed f) failed(f.reason());
        chargeFailure(r, source);
        return r;
    }

    /**
     * {@code unknown_user} and {@code bad_password} are told apart only in the metric; clients see the same answer,
     * after the same work: an unknown user's password is hashed too, through the same throttle and hashing slots, so
     * that timing does not tell which names exist and unknown names cost the node no more than known ones.
     */
    private Result check(String username, String password, Principal.Via via, String source) {
        if (username.length() > UserLimits.MAX_USERNAME || password.length() > UserLimits.MAX_PASSWORD) {
            return new Result.Failed("too_long"); // no such user or password can exist: nothing to hash
        }
        // A guess while its address or name is throttled is refused before the user lookup, so that a throttled
        // guesser costs the node no query either. Only a username and password verified within auth.basic-cache go
        // on to the lookup, which checks them against the stored hash as before.
        if (!cache.mayContain(username, password)) {
            long wait = throttle.wouldWait(source, username);
            if (wait > 0) return throttled(wait);
        }
        Optional<User> user = lookups.within("a user", () -> store.userByName(username));
        // a credential verified within auth.basic-cache passes even while its name is throttled: no hash to run
        if (user.isPresent() && cache.contains(username, password, user.get().passwordHash())) {
            return new Result.Ok(Principal.user(user.get(), via));
        }
        // Concurrent checks of one credential share one hash. Without this, a client opening 16 connections at once
        // with the right password takes 16 tries from the username's failed-login bucket before the first check
        // says it was right, and the 11th gets 429; and a burst of one guess would cost one hash per copy.
        String hash = user.map(User::passwordHash).orElse(dummyHash);
        String key = via + " " + cache.key(username, password, hash);
        CompletableFuture<Result> mine = new CompletableFuture<>();
        CompletableFuture<Result> first = checking.putIfAbsent(key, mine);
        if (first != null) return first.join();
        try {
            Result r = hashAndCheck(user, username, password, hash, via, source);
            mine.complete(r);
            return r;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            checking.remove(key, mine);
        }
    }

    private Result throttled(long wait) {
        failed("throttled");
        return new Result.Throttled(
                429, wait, "Too many failed logins from this address or for this user; retry in " + wait + " s.");
    }

    /** The throttled, slot-bounded password hash behind {@link #check}; one caller per credential at a time. */
    private Result hashAndCheck(
            Optional<User> user, String username, String password, String hash, Principal.Via via, String source) {
        long wait = throttle.attempt(source, username);
        if (wait > 0) return throttled(wait);
        Boolean matches = gate.run(() -> hasher.verify(password, hash));
        if (matches == null) {
            throttle.giveBack(source, username); // not checked, so not a failure
            failed("busy");
            return new Result.Throttled(503, 1, "Too many password checks at once; retry.");
        }
        if (user.isEmpty()) {
            log.debug("authentication failed: unknown user");
            return new Result.Failed("unknown_user");
        }
        User u = user.get();
        if (!matches) {
            log.debug("authentication failed: wrong password for user id {}", u.id());
            return new Result.Failed("bad_password");
        }
        throttle.giveBack(source, username);
        cache.put(username, password, u.passwordHash());
        return new Result.Ok(Principal.user(u, via));
    }
}
