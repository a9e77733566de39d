package io.jobstream.auth;

import static io.jobstream.auth.AuthRoutes.body;
import static io.jobstream.auth.AuthRoutes.id;
import static io.jobstream.auth.AuthRoutes.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.event.CaptureLevel;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A user's bearer tokens, AWX-style: {@code GET/POST /api/v2/tokens/}, {@code DELETE /api/v2/tokens/{id}/}. The secret
 * is shown once, in the POST's answer. {@code "kind": "ingest"} makes a token that can only send events, for
 * {@code "job"} (its owner or an admin), for a fresh job, or for every job (admins: an emitter token). Registered by
 * {@link AuthRoutes}; every route is behind {@link AuthFilter}. Thread-safe.
 */
final class TokenRoutes {
    /**
     * AWX's personal tokens, where {@code awx login} gets one: {@code {id}} is the user's id or, as awxkit writes it,
     * their username. A user reaches only their own (any other name or id is 403 before any lookup, so the answer
     * never tells which users exist); admins reach everyone's. Checked credentials are the request's own, so a wrong
     * password is throttled as every login is ({@link Authenticator}).
     */
    private static final String PERSONAL = "/api/v2/users/{id}/personal_tokens/";

    private final AuthStore store;
    private final BasicCache cache;
    private final JobAccess access;
    private final Clock clock;
    private final Runnable accessChanged;
    private final UserLimits limits;

    /** Six collaborators, past the house's five: the ones {@link AuthRoutes} was given that tokens need. */
    TokenRoutes(
            AuthStore store,
            BasicCache cache,
            JobAccess access,
            Clock clock,
            Runnable accessChanged,
            UserLimits limits) {
        this.store = store;
        this.cache = cache;
        this.access = access;
        this.clock = clock;
        this.accessChanged = accessChanged;
        this.limits = limits;
    }

    void register(RoutesConfig routes) {
        routes.get("/api/v2/tokens/", this::listTokens, Access.USER);
        routes.post("/api/v2/tokens/", this::createToken, Access.USER);
        routes.delete("/api/v2/tokens/{id}/", this::deleteToken, Access.USER);
        routes.get(PERSONAL, this::listPersonal, Access.USER);
        routes.post(PERSONAL, this::createPersonal, Access.USER);
    }

    private void listPersonal(Context ctx) {
        Optional<User> user = personalOwner(ctx);
        if (user.isEmpty()) return;
        List<Object> rows = store.tokensOf(user.get().id()).stream()
                .filter(t -> t.kind().equals(Token.API))
                .map(t -> (Object) personalJson(tokenJson(t, null)))
                .toList();
        json(ctx, 200, new ApiPage(1, Math.max(1, rows.size())).body(ctx, rows.size(), rows));
    }

    /** {@code {"description", "application": null, "scope": "write"}}: an API token of that user, shown once. */
    private void createPersonal(Context ctx) {
        Optional<User> user = personalOwner(ctx);
        if (user.isEmpty()) return;
        JsonNode body = body(ctx);
        if (body == null) return;
        Map<String, List<String>> errors = new LinkedHashMap<>();
        JsonNode application = body.get("application");
        if (application != null && !application.isNull())
            errors.put("application", List.of("OAuth2 applications are not supported: leave it null."));
        String scope = body.path("scope").asText("write");
        // a read-only token would need read-only enforcement on every route; refusing it is honest, a write token is
        // not
        if (!scope.equals("write")) errors.put("scope", List.of("Only 'write' tokens are supported."));
        String description = UserLimits.text(body, "description", UserLimits.MAX_DESCRIPTION, errors);
        if (!errors.isEmpty()) {
            json(ctx, 400, errors);
            return;
        }
        User owner = user.get();
        if (store.tokenCount(owner.id()) >= limits.maxTokensPerUser()) {
            limits.reached("tokens");
            Requests.detail(
                    ctx,
                    400,
                    "This user has " + limits.maxTokensPerUser() + " tokens, the most a user may have"
                            + " (auth.max-tokens-per-user); delete some first.");
            return;
        }
        String secret = Secrets.newSecret();
        long id = store.createToken(Secrets.sha256(secret), owner.id(), Token.API, null, description, null);
        Token t = new Token(id, owner, Token.API, null, description, clock.instant(), null);
        json(ctx, 201, personalJson(tokenJson(t, secret)));
    }

    /** The user of a personal-tokens path, when the caller may reach it; else answered (403/404) and empty. */
    private Optional<User> personalOwner(Context ctx) {
        Principal p = Requests.principal(ctx);
        String key = ctx.pathParam("id");
        boolean numeric = key.matches("[0-9]{1,18}");
        boolean self = numeric ? Long.parseLong(key) == p.userId() : key.equals(p.username());
        if (!self && !p.superuser()) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return Optional.empty();
        }
        Optional<User> user = numeric ? store.userById(Long.parseLong(key)) : store.userByName(key);
        if (user.isEmpty()) Requests.detail(ctx, 404, "Not found.");
        return user;
    }

    /** AWX's token fields that jobstream's tokens answer with fixed values (no OAuth2 applications, write scope). */
    private static Map<String, Object> personalJson(Map<String, Object> token) {
        token.put("application", null);
        token.put("scope", "write");
        token.put("refresh_token", null);
        return token;
    }

    private void listTokens(Context ctx) {
        List<Object> rows = store.tokensOf(Requests.principal(ctx).userId()).stream()
                .map(t -> (Object) tokenJson(t, null))
                .toList();
        json(ctx, 200, new ApiPage(1, Math.max(1, rows.size())).body(ctx, rows.size(), rows));
    }

    /**
     * An API token, or an ingest token: for {@code "job": N} (N must exist and be writable by the creator: its owner,
     * or an admin for a job no other user owns), for a fresh job the node allocates now when no job is given (owned by
     * the creator; how a hand-run ansible-playbook gets its job id), or for every job with {@code "every_job": true}
     * (admins: an emitter token, whose power lasts only while its user is an admin).
     */
    private void createToken(Context ctx) {
        Principal p = Requests.principal(ctx);
        JsonNode body = body(ctx);
        if (body == null) return;
        Map<String, List<String>> errors = new LinkedHashMap<>();
        TokenRequest t = TokenRequest.of(body, errors);
        if (!errors.isEmpty()) {
            json(ctx, 400, errors);
            return;
        }
        if (t.everyJob() && !p.superuser()) {
            Requests.detail(
                    ctx, 403, "Emitter tokens (every job) are for admins."); // emitter tokens are trusted writers
            return;
        }
        if (store.tokenCount(p.userId()) >= limits.maxTokensPerUser()) {
            limits.reached("tokens");
            Requests.detail(
                    ctx,
                    400,
                    "You have " + limits.maxTokensPerUser() + " tokens, the most a user may have"
                            + " (auth.max-tokens-per-user); delete some first.");
            return;
        }
        Long job = t.job();
        if (t.ingest() && job != null && !mayTokenWrite(ctx, p, job)) return;
        if (t.ingest() && job == null && !t.everyJob()) {
            job = freshJob(ctx, p);
            if (job == null) return;
        }
        String secret = Secrets.newSecret();
        long id = store.createToken(
                Secrets.sha256(secret), p.userId(), t.kind(), job, t.description(), null, t.capture());
        User me = store.userById(p.userId()).orElseThrow();
        json(
                ctx,
                201,
                tokenJson(
                        new Token(id, me, t.kind(), job, t.description(), clock.instant(), null, t.capture()), secret));
    }

    /** What a token request asks for, validated. */
    private record TokenRequest(String kind, Long job, boolean everyJob, String description, CaptureLevel capture) {
        boolean ingest() {
            return kind.equals(Token.INGEST);
        }

        static TokenRequest of(JsonNode body, Map<String, List<String>> errors) {
            String kind = body.path("kind").asText(Token.API);
            boolean everyJob = body.path("every_job").asBoolean(false);
            JsonNode field = body.get("job");
            boolean hasJob = field != null && !field.isNull();
            if (!kind.equals(Token.API) && !kind.equals(Token.INGEST))
                errors.put("kind", List.of("Must be 'api' or 'ingest'."));
            Long job = null;
            if (hasJob
                    && field.isIntegralNumber()
                    && field.canConvertToLong()
                    && JobAccess.validJobId(field.asLong())) {
                job = field.asLong();
            } else if (hasJob) {
                errors.put("job", List.of("Must be a job id from 1 to " + JobAccess.MAX_JOB_ID + "."));
            }
            if (kind.equals(Token.API) && (hasJob || everyJob))
                errors.put("job", List.of("Only ingest tokens have a job."));
            if (everyJob && hasJob) errors.put("every_job", List.of("Give a job or every_job, not both."));
            String description = UserLimits.text(body, "description", UserLimits.MAX_DESCRIPTION, errors);
            return new TokenRequest(kind, job, everyJob, description, capture(body, kind, errors));
        }

        /** An ingest token's capture level (SPEC §10): absent or null = full. */
        private static CaptureLevel capture(JsonNode body, String kind, Map<String, List<String>> errors) {
            JsonNode field = body.get("capture");
            if (field == null || field.isNull()) return null;
            if (!kind.equals(Token.INGEST)) {
                errors.put("capture", List.of("Only ingest tokens have a capture level."));
                return null;
            }
            if (!field.isTextual()) {
                errors.put("capture", List.of("Must be one of full, no_event_data, summary."));
                return null;
            }
            try {
                return CaptureLevel.parse(field.textValue());
            } catch (IllegalArgumentException e) {
                errors.put("capture", List.of(e.getMessage()));
                return null;
            }
        }
    }

    /** A fresh job for the creator's ingest token, or null (answered 400) over {@code auth.max-new-jobs-per-user}. */
    private Long freshJob(Context ctx, Principal p) {
        OptionalLong fresh = store.allocateJob(p.userId(), limits.maxNewJobsPerUser());
        if (fresh.isPresent()) return fresh.getAsLong();
        limits.reached("new_jobs");
        Requests.detail(
                ctx,
                400,
                "You have " + limits.maxNewJobsPerUser() + " jobs that have not received an"
                        + " event yet, the most a user may have (auth.max-new-jobs-per-user); use them first.");
        return null;
    }

    /** Whether the creator may make a token for existing job {@code job}; answers 400/403 when not. */
    private boolean mayTokenWrite(Context ctx, Principal p, long job) {
        if (!store.jobExists(job)) {
            json(
                    ctx,
                    400,
                    Map.of("job", List.of("Job " + job + " does not exist: leave out \"job\" to get a fresh one.")));
            return false;
        }
        JobAccess.Writes writes = access.writes(p, List.of(job));
        if (writes.allowed().contains(job)) return true;
        Requests.detail(ctx, 403, writes.refused().get(job).reason());
        return false;
    }

    private void deleteToken(Context ctx) {
        Principal p = Requests.principal(ctx);
        if (!store.deleteToken(id(ctx), p.superuser() ? null : p.userId())) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        cache.clearPrincipals(); // a revoked token must not come back from the outage fallback either
        accessChanged.run();
        ctx.status(204);
    }

    private static Map<String, Object> tokenJson(Token t, String secret) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("type", "token");
        m.put("url", "/api/v2/tokens/" + t.id() + "/");
        m.put("user", t.user() == null ? null : t.user().id());
        m.put("kind", t.kind());
        m.put("job", t.jobId());
        m.put("description", t.description());
        if (t.kind().equals(Token.INGEST))
            m.put("capture", t.capture() == null ? "full" : t.capture().wire());
        m.put("created", t.created() == null ? null : t.created().toString());
        m.put("expires", t.expires() == null ? null : t.expires().toString());
        m.put("token", secret == null ? "************" : secret);
        return m;
    }
}
