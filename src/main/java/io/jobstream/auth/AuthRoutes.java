package io.jobstream.auth;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.jobstream.event.Json;
import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The AWX-style management API, kept small (docs/OPERATIONS.md shows its use):
 * <ul>
 *   <li>{@code GET/POST /api/v2/users/} (admins), {@code GET/PATCH /api/v2/users/{id}/} (admins, or the user for
 *       their own password), {@code GET /api/v2/me/} (a page with one result, as AWX).
 *   <li>{@code GET/POST /api/v2/teams/} (everyone sees their teams, admins all; admins create),
 *       {@code GET/POST /api/v2/teams/{id}/users/} (members listed; admins associate {@code {"id": N}} or
 *       disassociate {@code {"id": N, "disassociate": true}}, AWX's way).
 *   <li>{@code GET/POST /api/v2/jobs/{id}/teams/}: a job's teams; its owner (in that team) or an admin shares it.
 *   <li>Tokens: {@link TokenRoutes}, registered from here.
 * </ul>
 * Every route is behind {@link AuthFilter}. Thread-safe.
 */
public final class AuthRoutes {
    private final AuthStore store;
    private final PasswordHasher hasher;
    private final BasicCache cache;
    private final JobAccess access;
    private final Clock clock;
    private final Runnable accessChanged;
    private final UserLimits limits;
    private final TokenRoutes tokens;

    /**
     * Seven parameters, past the house's five: each is a collaborator the routes need, and bundling them would only
     * hide that.
     *
     * @param accessChanged told after a change that may withdraw what someone sees (token deleted, password or
     *                      superuser changed, team member removed, job unshared), so that open websockets are checked
     */
    public AuthRoutes(
            AuthStore store,
            PasswordHasher hasher,
            BasicCache cache,
            JobAccess access,
            Clock clock,
            Runnable accessChanged,
            UserLimits limits) {
        this.limits = limits;
        this.store = store;
        this.hasher = hasher;
        this.cache = cache;
        this.access = access;
        this.clock = clock;
        this.accessChanged = accessChanged;
        this.tokens = new TokenRoutes(store, cache, access, clock, accessChanged, limits);
    }

    public void register(RoutesConfig routes) {
        routes.get(
                "/api/v2/me/",
                ctx -> {
                    User me = store.userById(Requests.principal(ctx).userId()).orElseThrow();
                    json(ctx, 200, new ApiPage(1, ApiPage.DEFAULT_SIZE).body(ctx, 1, List.of(userJson(me))));
                },
                Access.USER);
        routes.get("/api/v2/users/", admin(this::listUsers), Access.ADMIN);
        routes.post("/api/v2/users/", admin(this::createUser), Access.ADMIN);
        routes.get(
                "/api/v2/users/{id}/",
                ctx -> selfOrAdmin(ctx).ifPresent(u -> json(ctx, 200, userJson(u))),
                Access.USER);
        routes.patch("/api/v2/users/{id}/", this::updateUser, Access.USER);
        routes.put("/api/v2/users/{id}/", this::updateUser, Access.USER); // AWX allows both; awxkit's modify PATCHes
        routes.delete("/api/v2/users/{id}/", admin(this::deleteUser), Access.ADMIN);
        routes.get("/api/v2/teams/", this::listTeams, Access.USER);
        routes.post("/api/v2/teams/", admin(this::createTeam), Access.ADMIN);
        routes.get("/api/v2/teams/{id}/", this::getTeam, Access.USER);
        routes.patch("/api/v2/teams/{id}/", admin(this::renameTeam), Access.ADMIN);
        routes.put("/api/v2/teams/{id}/", admin(this::renameTeam), Access.ADMIN);
        routes.delete("/api/v2/teams/{id}/", admin(this::deleteTeam), Access.ADMIN);
        routes.get("/api/v2/teams/{id}/users/", this::listMembers, Access.USER);
        routes.post("/api/v2/teams/{id}/users/", admin(this::associateMember), Access.ADMIN);
        routes.get("/api/v2/jobs/{id}/teams/", this::jobTeams, Access.USER);
        routes.post("/api/v2/jobs/{id}/teams/", this::shareJob, Access.USER);
        tokens.register(routes);
    }

    private static Handler admin(Handler handler) {
        return ctx -> {
            if (!Requests.principal(ctx).superuser()) {
                Requests.detail(ctx, 403, Requests.FORBIDDEN);
                return;
            }
            handler.handle(ctx);
        };
    }

    private void listUsers(Context ctx) {
        ApiPage page = ApiPage.of(ctx);
        if (page == null) return;
        ListQuery query = ListQuery.of(ctx, "username", true);
        if (query == null) return;
        List<Object> rows = store.users(query, page.offset(), page.size()).stream()
                .map(u -> (Object) userJson(u))
                .toList();
        json(ctx, 200, page.body(ctx, store.userCount(query), rows));
    }

    private void createUser(Context ctx) {
        JsonNode body = body(ctx);
        if (body == null) return;
        String username = body.path("username").asText("");
        String password = body.path("password").asText("");
        Map<String, List<String>> errors = new LinkedHashMap<>();
        if (!username.matches("[A-Za-z0-9@.+_-]{1," + UserLimits.MAX_USERNAME + "}")) {
            errors.put(
                    "username",
                    List.of("Enter a valid username: up to " + UserLimits.MAX_USERNAME
                            + " letters, digits and @/./+/-/_ characters."));
        }
        if (password.isEmpty()) errors.put("password", List.of("This field may not be blank."));
        if (password.length() > UserLimits.MAX_PASSWORD)
            errors.put("password", List.of(tooLong(UserLimits.MAX_PASSWORD)));
        if (!errors.isEmpty()) {
            json(ctx, 400, errors);
            return;
        }
        Optional<User> created = store.createUser(
                username, hasher.hash(password), body.path("is_superuser").asBoolean(false));
        if (created.isEmpty()) {
            json(ctx, 400, Map.of("username", List.of("A user with that username already exists.")));
            return;
        }
        ctx.header("Location", "/api/v2/users/" + created.get().id() + "/");
        json(ctx, 201, userJson(created.get()));
    }

    private Optional<User> selfOrAdmin(Context ctx) {
        Principal p = Requests.principal(ctx);
        long id = id(ctx);
        Optional<User> user = id < 1 ? Optional.empty() : store.userById(id);
        if (user.isEmpty()) {
            Requests.detail(ctx, 404, "Not found.");
            return Optional.empty();
        }
        if (!p.superuser() && p.userId() != id) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return Optional.empty();
        }
        return user;
    }

    /** A new password ({@code password}) or, admins only, {@code is_superuser}. */
    private void updateUser(Context ctx) {
        Optional<User> found = selfOrAdmin(ctx);
        if (found.isEmpty()) return;
        JsonNode body = body(ctx);
        if (body == null) return;
        Principal p = Requests.principal(ctx);
        if (body.has("username")
                && !body.get("username").asText("").equals(found.get().username())) {
            // awx users modify offers --username (from the create fields); saying no beats ignoring it silently
            json(ctx, 400, Map.of("username", List.of("A username cannot be changed.")));
            return;
        }
        boolean changed = false; // only a real change re-checks open websockets: a no-op PATCH costs them nothing
        if (body.has("is_superuser")) {
            if (!p.superuser()) {
                Requests.detail(ctx, 403, Requests.FORBIDDEN);
                return;
            }
            boolean superuser = body.get("is_superuser").asBoolean();
            if (superuser != found.get().superuser()) {
                store.setSuperuser(found.get().id(), superuser);
                cache.clearPrincipals(); // the old rights must not come back from the outage fallback
                changed = true;
            }
        }
        String password = body.path("password").asText("");
        if (password.length() > UserLimits.MAX_PASSWORD) {
            json(ctx, 400, Map.of("password", List.of(tooLong(UserLimits.MAX_PASSWORD))));
            return;
        }
        if (!password.isEmpty()) {
            store.setPassword(found.get().id(), hasher.hash(password));
            cache.clear();
            changed = true;
        }
        if (changed) accessChanged.run();
        json(ctx, 200, userJson(store.userById(found.get().id()).orElseThrow()));
    }

    private void listTeams(Context ctx) {
        ApiPage page = ApiPage.of(ctx);
        if (page == null) return;
        Principal p = Requests.principal(ctx);
        Long member = p.superuser() ? null : p.userId();
        ListQuery query = ListQuery.of(ctx, "name", false);
        if (query == null) return;
        List<Object> rows = store.teams(member, query, page.offset(), page.size()).stream()
                .map(t -> (Object) teamJson(t))
                .toList();
        json(ctx, 200, page.body(ctx, store.teamCount(member, query), rows));
    }

    /** A team to its members and admins (403 to others, as its members list answers). */
    private void getTeam(Context ctx) {
        Principal p = Requests.principal(ctx);
        long id = id(ctx);
        Optional<Team> team = id < 1 ? Optional.empty() : store.team(id);
        if (team.isEmpty()) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        if (!p.superuser() && !store.isMember(id, p.userId())) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        json(ctx, 200, teamJson(team.get()));
    }

    /** Admins rename a team ({@code name}; a team has nothing else to change). */
    private void renameTeam(Context ctx) {
        long id = id(ctx);
        if (id < 1 || store.team(id).isEmpty()) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        JsonNode body = body(ctx);
        if (body == null) return;
        if (body.has("name")) {
            String name = teamName(ctx, body);
            if (name == null) return;
            if (!store.renameTeam(id, name)) {
                json(ctx, 400, Map.of("name", List.of("Team with this Name already exists.")));
                return;
            }
        }
        json(ctx, 200, teamJson(store.team(id).orElseThrow()));
    }

    /** The body's team name, or null after answering 400. */
    private static String teamName(Context ctx, JsonNode body) {
        String name = body.path("name").asText("").trim();
        if (name.isEmpty() || name.length() > UserLimits.MAX_TEAM_NAME) {
            json(
                    ctx,
                    400,
                    Map.of(
                            "name",
                            List.of("This field may not be blank (at most " + UserLimits.MAX_TEAM_NAME
                                    + " characters).")));
            return null;
        }
        return name;
    }

    private void createTeam(Context ctx) {
        JsonNode body = body(ctx);
        if (body == null) return;
        String name = teamName(ctx, body);
        if (name == null) return;
        Optional<Team> team = store.createTeam(name);
        if (team.isEmpty()) {
            json(ctx, 400, Map.of("name", List.of("Team with this Name already exists.")));
            return;
        }
        json(ctx, 201, teamJson(team.get()));
    }

    private void listMembers(Context ctx) {
        Principal p = Requests.principal(ctx);
        long id = id(ctx);
        if (id < 1 || store.team(id).isEmpty()) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        if (!p.superuser() && !store.isMember(id, p.userId())) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        List<Object> rows =
                store.members(id).stream().map(u -> (Object) userJson(u)).toList();
        json(ctx, 200, new ApiPage(1, Math.max(1, rows.size())).body(ctx, rows.size(), rows));
    }

    private void associateMember(Context ctx) {
        long team = id(ctx);
        JsonNode body = body(ctx);
        if (body == null) return;
        long user = body.path("id").asLong(0);
        if (team < 1 || store.team(team).isEmpty() || store.userById(user).isEmpty()) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        if (body.path("disassociate").asBoolean(false)) {
            store.removeMember(team, user);
            accessChanged.run();
        } else {
            store.addMember(team, user);
        }
        ctx.status(204);
    }

    private void jobTeams(Context ctx) {
        long job = id(ctx);
        if (!visibleJob(ctx, job)) return;
        List<Object> rows =
                store.jobTeams(job).stream().map(t -> (Object) teamJson(t)).toList();
        json(ctx, 200, new ApiPage(1, Math.max(1, rows.size())).body(ctx, rows.size(), rows));
    }

    /** Owner or admin; a non-admin owner may share only with a team they are in. */
    private void shareJob(Context ctx) {
        Principal p = Requests.principal(ctx);
        long job = id(ctx);
        if (!visibleJob(ctx, job)) return;
        JsonNode body = body(ctx);
        if (body == null) return;
        long team = body.path("id").asLong(0);
        if (store.team(team).isEmpty()) {
            json(ctx, 400, Map.of("id", List.of("No such team.")));
            return;
        }
        boolean owner = !access.writable(p, List.of(job)).isEmpty();
        if (!p.superuser() && !(owner && store.isMember(team, p.userId()))) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return;
        }
        if (body.path("disassociate").asBoolean(false)) {
            store.unshareJob(job, team);
            accessChanged.run();
        } else {
            store.shareJob(job, team);
        }
        ctx.status(204);
    }

    private boolean visibleJob(Context ctx, long job) {
        if (job < 1 || !store.jobExists(job)) {
            Requests.detail(ctx, 404, "Not found.");
            return false;
        }
        if (!access.mayView(Requests.principal(ctx), job)) {
            Requests.detail(ctx, 403, Requests.FORBIDDEN);
            return false;
        }
        return true;
    }

    /**
     * Admins delete users (AWX's DELETE): their sessions and tokens end at once, their open websockets are closed,
     * and the jobs they owned become admin-only. Not oneself, so that the last admin cannot lock everyone out.
     */
    private void deleteUser(Context ctx) {
        long id = id(ctx);
        if (id == Requests.principal(ctx).userId()) {
            Requests.detail(ctx, 403, "You cannot delete your own account.");
            return;
        }
        if (!store.deleteUser(id)) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        cache.clear(); // its Basic credential must not outlive it, even during a database outage
        accessChanged.run();
        ctx.status(204);
    }

    private void deleteTeam(Context ctx) {
        if (!store.deleteTeam(id(ctx))) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        accessChanged.run();
        ctx.status(204);
    }

    private static String tooLong(int max) {
        return "Ensure this field has no more than " + max + " characters.";
    }

    static Map<String, Object> userJson(User u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", u.id());
        m.put("type", "user");
        m.put("url", "/api/v2/users/" + u.id() + "/");
        m.put("related", Map.of("personal_tokens", "/api/v2/users/" + u.id() + "/personal_tokens/"));
        m.put("summary_fields", Map.of());
        m.put("created", u.created() == null ? null : u.created().toString());
        m.put("username", u.username());
        m.put("first_name", "");
        m.put("last_name", "");
        m.put("email", "");
        m.put("is_superuser", u.superuser());
        m.put("is_system_auditor", false);
        m.put("password", "$encrypted$");
        m.put("ldap_dn", "");
        m.put("last_login", null);
        m.put("external_account", null);
        return m;
    }

    static Map<String, Object> teamJson(Team t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("type", "team");
        m.put("url", "/api/v2/teams/" + t.id() + "/");
        m.put("related", Map.of("users", "/api/v2/teams/" + t.id() + "/users/"));
        m.put("summary_fields", Map.of());
        m.put("created", t.created() == null ? null : t.created().toString());
        m.put("name", t.name());
        m.put("description", "");
        m.put("organization", null);
        return m;
    }

    static long id(Context ctx) {
        try {
            return Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static JsonNode body(Context ctx) {
        try {
            JsonNode body = Json.MAPPER.readTree(ctx.bodyAsBytes());
            if (body != null && body.isObject()) return body;
        } catch (IOException e) {
            // answered below
        }
        Requests.detail(ctx, 400, "JSON parse error - expected a JSON object.");
        return null;
    }

    static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(Json.MAPPER.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
