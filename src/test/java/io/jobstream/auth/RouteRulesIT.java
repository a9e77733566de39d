package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.server.Server;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestJobs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 12.5: every route the running node serves (read from its router, not from a list here) declares exactly one
 * {@link Access} rule, and that rule holds for every spelling of its path and every method, for every kind of caller.
 *
 * <p>Callers: anonymous, alice (owns job 5001, shared with team ops), bob (another user), carol (in ops), the admin,
 * an ingest token for job 5001, and an admin's every-job emitter token. Unsafe methods go to ids that do not exist with
 * a body that is not JSON, so the matrix changes nothing it later reads; what it checks is who gets past the rule.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RouteRulesIT {
    /** Alice's job, allocated by the node in {@link #start()} (users cannot choose job ids). */
    private static long JOB;

    private static final long MISSING = 99_999_999;
    private static final List<String> METHODS =
            List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY", "FROB");

    /**
     * The rule each route must declare. A route missing here fails the build: whoever adds a route says here who may
     * reach it (and the matrix below then checks that this holds).
     */
    private static final Map<String, Access> RULES = new TreeMap<>();

    static {
        rule(
                Access.ANONYMOUS,
                "GET /api/v2/ping/",
                "GET /api/v2/health/",
                "GET /metrics",
                "GET /login/",
                "POST /login/",
                "GET /static/<path>",
                "GET /static/vendor/jquery/<path>",
                "GET /api/",
                "GET /api/v2/",
                "POST /api/login/");
        rule(
                Access.PAGE,
                "GET /",
                "GET /jobs/{id}",
                "GET /jobs/{id}/hosts",
                "GET /jobs/{id}/timeline",
                "GET /jobs/{id}/compare/",
                "GET /jobs/{id}/compare/{other}");
        rule(
                Access.ADMIN,
                "GET /api/v2/stats/",
                "GET /api/v2/diagnosis/",
                "GET /api/v2/storage/",
                "POST /api/v2/storage/cleanup/",
                "GET /api/v2/users/",
                "POST /api/v2/users/",
                "DELETE /api/v2/users/{id}/",
                "POST /api/v2/teams/",
                "DELETE /api/v2/teams/{id}/",
                "PATCH /api/v2/teams/{id}/",
                "PUT /api/v2/teams/{id}/",
                "POST /api/v2/teams/{id}/users/");
        rule(Access.INGEST, "POST /api/v2/job_events/ingest/");
        rule(Access.WEBSOCKET, "WEBSOCKET /websocket/", "WEBSOCKET /api/websocket/");
        rule(Access.STREAM, "GET /api/v2/jobs/{id}/events/stream/");
        rule(
                Access.USER,
                "GET /api/v2/me/",
                "GET /api/v2/users/{id}/",
                "PATCH /api/v2/users/{id}/",
                "PUT /api/v2/users/{id}/",
                "GET /api/v2/users/{id}/personal_tokens/",
                "POST /api/v2/users/{id}/personal_tokens/",
                "GET /api/v2/teams/",
                "GET /api/v2/teams/{id}/",
                "OPTIONS /api/v2/jobs/",
                "OPTIONS /api/v2/jobs/{id}/",
                "OPTIONS /api/v2/users/",
                "OPTIONS /api/v2/users/{id}/",
                "OPTIONS /api/v2/teams/",
                "OPTIONS /api/v2/teams/{id}/",
                "OPTIONS /api/v2/organizations/",
                "OPTIONS /api/v2/projects/",
                "OPTIONS /api/v2/inventories/",
                "OPTIONS /api/v2/credentials/",
                "OPTIONS /api/v2/job_templates/",
                "OPTIONS /api/v2/workflow_job_templates/",
                "OPTIONS /api/v2/instance_groups/",
                "GET /api/v2/teams/{id}/users/",
                "GET /api/v2/jobs/{id}/teams/",
                "POST /api/v2/jobs/{id}/teams/",
                "GET /api/v2/tokens/",
                "POST /api/v2/tokens/",
                "DELETE /api/v2/tokens/{id}/",
                "POST /logout/",
                "POST /api/v2/jobs/",
                "POST /api/v2/jobs/{id}/cancel/",
                "GET /api/v2/jobs/{id}/cancel/",
                "GET /api/v2/jobs/",
                "GET /api/v2/jobs/{id}/",
                "GET /api/v2/jobs/{id}/job_events/",
                "GET /api/v2/jobs/{id}/job_events/children_summary/",
                "GET /api/v2/jobs/{id}/stdout/",
                "GET /api/v2/jobs/{id}/diagnosis/",
                "GET /api/v2/jobs/{id}/job_host_summaries/",
                "GET /api/v2/jobs/{id}/timeline/",
                "GET /api/v2/jobs/{id}/compare/{other}/",
                "GET /api/v2/job_events/",
                "GET /api/v2/job_events/{id}/",
                "GET /api/v2/job_events/{id}/children/");
    }

    private static void rule(Access access, String... routes) {
        for (String r : routes) RULES.put(r, access);
    }

    enum Caller {
        ANONYMOUS,
        ALICE,
        BOB,
        CAROL,
        ADMIN,
        JOB_TOKEN,
        EMITTER_TOKEN
    }

    private RunningServer node;
    private final Map<Caller, String> authorization = new EnumMap<>(Caller.class);
    private final HttpClient client = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private long aliceId;
    private long team;
    private long eventId;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(TempDirs.make("route-rules"));
        String admin = TestUsers.ADMIN_AUTH;
        for (String user : List.of("alice", "bob", "carol")) {
            assertThat(Http.postJson(
                                    api("/api/v2/users/"),
                                    "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                                    admin)
                            .statusCode())
                    .isEqualTo(201);
        }
        authorization.put(Caller.ALICE, TestUsers.basic("alice", "alice-pw"));
        authorization.put(Caller.BOB, TestUsers.basic("bob", "bob-pw"));
        authorization.put(Caller.CAROL, TestUsers.basic("carol", "carol-pw"));
        authorization.put(Caller.ADMIN, admin);
        aliceId = Http.json(Http.get(api("/api/v2/me/"), authorization.get(Caller.ALICE))
                        .body())
                .path("results")
                .get(0)
                .get("id")
                .asLong();
        long carolId = Http.json(Http.get(api("/api/v2/me/"), authorization.get(Caller.CAROL))
                        .body())
                .path("results")
                .get(0)
                .get("id")
                .asLong();
        team = Http.json(Http.postJson(api("/api/v2/teams/"), "{\"name\":\"ops\"}", admin)
                        .body())
                .get("id")
                .asLong();
        for (long member : List.of(aliceId, carolId)) { // one shares only with a team one is in
            assertThat(Http.postJson(api("/api/v2/teams/" + team + "/users/"), "{\"id\":" + member + "}", admin)
                            .statusCode())
                    .isEqualTo(204);
        }
        JOB = TestJobs.allocate(api("/"), authorization.get(Caller.ALICE));
        HttpResponse<String> first =
                Http.post(api("/api/v2/job_events/ingest/"), Events.event(JOB, 1), authorization.get(Caller.ALICE));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(Http.postJson(
                                api("/api/v2/jobs/" + JOB + "/teams/"),
                                "{\"id\":" + team + "}",
                                authorization.get(Caller.ALICE))
                        .statusCode())
                .isEqualTo(204);
        eventId = Http.getJson(api("/api/v2/jobs/" + JOB + "/job_events/"))
                .path("results")
                .get(0)
                .get("id")
                .asLong();
        authorization.put(
                Caller.JOB_TOKEN,
                "Bearer " + token("{\"kind\":\"ingest\",\"job\":" + JOB + "}", authorization.get(Caller.ALICE)));
        authorization.put(Caller.EMITTER_TOKEN, "Bearer " + token("{\"kind\":\"ingest\",\"every_job\":true}", admin));
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    @Test
    void every_registered_route_declares_exactly_the_rule_it_should() {
        List<Server.Route> routes = node.routes();
        assertThat(routes).as("routes read from the running node").hasSizeGreaterThan(30);
        SoftAssertions soft = new SoftAssertions();
        for (Server.Route r : routes) {
            String key = r.method() + " " + r.path();
            soft.assertThat(r.roles())
                    .as(key + ": declares exactly one Access rule at its registration")
                    .hasSize(1);
            soft.assertThat(Access.of(r.roles()))
                    .as(key + ": its rule (add the route to RULES with who may reach it)")
                    .isNotNull()
                    .isEqualTo(RULES.get(key));
        }
        soft.assertAll();
    }

    @Test
    void every_route_every_spelling_every_method_every_caller_gets_what_its_rule_says() {
        SoftAssertions soft = new SoftAssertions();
        for (Server.Route r : node.routes()) {
            if (r.method().equals("WEBSOCKET")) continue;
            Access rule = Access.of(r.roles());
            boolean unsafe = !r.method().equals("GET");
            String path = concrete(r.path(), unsafe);
            for (Caller caller : Caller.values()) {
                int canonical = send(r.method(), path, caller);
                String what = caller + " " + r.method() + " " + path + " (" + rule + ")";
                expectRule(soft, what, rule, caller, r.method(), path, canonical);
                for (String spelled : sameRoute(path)) {
                    soft.assertThat(send(r.method(), spelled, caller))
                            .as(what + " spelled " + spelled)
                            .isEqualTo(canonical);
                }
                for (String spelled : otherSpellings(path)) {
                    int status = send(r.method(), spelled, caller);
                    if (status != canonical) expectUnmatched(soft, what + " spelled " + spelled, caller, status, rule);
                }
                if (r.method().equals("GET")) {
                    // Javalin answers a HEAD itself, without the handler: the rule's refusals, else 200 and nothing
                    int head = send("HEAD", path, caller);
                    if (canonical == 401 || canonical == 302 || (canonical == 403 && refusedByRule(rule, caller))) {
                        soft.assertThat(head).as(what + " as HEAD").isEqualTo(canonical);
                    } else {
                        soft.assertThat(head).as(what + " as HEAD").isEqualTo(200);
                    }
                }
            }
            for (String method : METHODS) {
                if (served(method, path)) continue; // that route's own matrix

                for (Caller caller : Caller.values()) {
                    String what = caller + " " + method + " " + path + " (not served)";
                    expectUnmatched(soft, what, caller, send(method, path, caller), null);
                }
            }
        }
        soft.assertAll();
    }

    @Test
    void no_spelling_of_a_websocket_path_accepts_a_handshake_without_credentials() throws Exception {
        List<String> tried = new ArrayList<>();
        for (Server.Route r : node.routes()) {
            if (!r.method().equals("WEBSOCKET")) continue;
            List<String> spellings = new ArrayList<>(List.of(r.path()));
            spellings.addAll(sameRoute(r.path()));
            spellings.addAll(otherSpellings(r.path()));
            for (String path : spellings) {
                URI uri = URI.create("ws://127.0.0.1:" + node.uri("/").getPort() + path);
                tried.add(path);
                for (Caller caller : List.of(Caller.ANONYMOUS, Caller.JOB_TOKEN)) {
                    WsTestClient ws;
                    try {
                        ws = WsTestClient.connect(uri, "csrftoken=x", authorization.get(caller), true);
                    } catch (RuntimeException refused) {
                        continue; // the upgrade itself was refused (401, 404): nothing accepted
                    }
                    int code = ws.closed.get(10, TimeUnit.SECONDS);
                    assertThat(code).as(caller + " " + path).isEqualTo(1008);
                    assertThat(ws.frames).as(caller + " " + path).noneMatch(f -> f.contains("accept"));
                }
            }
        }
        assertThat(tried).hasSizeGreaterThan(6);
    }

    @Test
    void unknown_paths_answer_401_before_404_so_probing_reveals_nothing() {
        for (String path : List.of("/api/v2/nothing/", "/nothing", "/api/v2/stats/x/", "/static", "/websocket/")) {
            assertThat(send("GET", path, Caller.ANONYMOUS)).as(path).isEqualTo(401);
            assertThat(send("GET", path, Caller.BOB)).as(path).isEqualTo(404);
            assertThat(send("GET", path, Caller.JOB_TOKEN)).as(path).isEqualTo(404);
        }
    }

    /** What the rule alone decides for this caller; per-object checks are the handlers' and looked at only for jobs. */
    private void expectRule(
            SoftAssertions soft, String what, Access rule, Caller caller, String method, String path, int status) {
        boolean token = caller == Caller.JOB_TOKEN || caller == Caller.EMITTER_TOKEN;
        if (rule == Access.ANONYMOUS && method.equals("POST") && path.equals("/api/login/")) {
            // open to all, but its own CSRF check (Django's, against forged logins) refuses this body-less post
            soft.assertThat(status).as(what).isEqualTo(403);
        } else if (rule == Access.ANONYMOUS) {
            soft.assertThat(status).as(what).isNotIn(401, 403).isLessThan(500);
        } else if (caller == Caller.ANONYMOUS) {
            soft.assertThat(status).as(what).isEqualTo(rule == Access.PAGE ? 302 : 401);
        } else if (token && rule != Access.INGEST) {
            soft.assertThat(status).as(what).isEqualTo(403);
        } else if (rule == Access.ADMIN && caller != Caller.ADMIN) {
            soft.assertThat(status).as(what).isEqualTo(403);
        } else {
            soft.assertThat(status)
                    .as(what + ": past the rule")
                    .isNotEqualTo(401)
                    .isLessThan(500);
            if (caller == Caller.ADMIN)
                soft.assertThat(status).as(what + ": admins pass every check").isNotEqualTo(403);
            boolean search = path.replaceAll("/+", "/").replaceAll("/$", "").equals("/api/v2/job_events");
            if (method.equals("GET")
                    && !search
                    && (path.startsWith("/api/v2/jobs/" + JOB) || path.startsWith("/api/v2/job_events/"))) {
                // alice owns the job, carol sees it through the team; bob does not
                if (caller == Caller.BOB) soft.assertThat(status).as(what).isIn(403, 404);
                else soft.assertThat(status).as(what).isBetween(200, 299);
            }
        }
    }

    /**
     * A spelling or method no route serves: authenticated first (anonymous: 401), then nothing is there. A spelling
     * that an open route's pattern still takes ({@code /static/./app.css}) is that route's own 404.
     */
    private static void expectUnmatched(SoftAssertions soft, String what, Caller caller, int status, Access rule) {
        if (caller != Caller.ANONYMOUS) soft.assertThat(status).as(what).isIn(404, 400);
        else if (rule == Access.ANONYMOUS) soft.assertThat(status).as(what).isIn(401, 302, 400, 404);
        else soft.assertThat(status).as(what).isIn(401, 302, 400);
    }

    private static boolean refusedByRule(Access rule, Caller caller) {
        boolean token = caller == Caller.JOB_TOKEN || caller == Caller.EMITTER_TOKEN;
        return rule != Access.ANONYMOUS
                && (caller == Caller.ANONYMOUS
                        || (token && rule != Access.INGEST)
                        || (rule == Access.ADMIN && caller != Caller.ADMIN));
    }

    /** Whether some route serves {@code method} at this concrete path (HEAD: a GET route). */
    private boolean served(String method, String path) {
        String m = method.equals("HEAD") ? "GET" : method;
        for (Server.Route r : node.routes()) {
            String regex = r.path().replaceAll("\\{[^}]+}", "[^/]+").replaceAll("<[^>]+>", ".+");
            if (r.method().equals(m) && path.matches(regex)) return true;
        }
        return false;
    }

    /** Spellings the router maps to the same route (docs/OPERATIONS.md): slash or not at the end, doubled slashes. */
    private static List<String> sameRoute(String path) {
        List<String> out = new ArrayList<>();
        if (path.equals("/")) return List.of("//");
        out.add(path.endsWith("/") ? path.substring(0, path.length() - 1) : path + "/");
        out.add("/" + path);
        out.add(path.replaceFirst("/([^/]+)/", "/$1//"));
        return out;
    }

    /** Spellings that name no route: another case, a percent-encoded letter, a dot segment. */
    private static List<String> otherSpellings(String path) {
        if (path.equals("/")) return List.of("/%2F", "/.");
        List<String> out = new ArrayList<>();
        out.add(path.toUpperCase(Locale.ROOT));
        int letter = path.length() - 1;
        while (letter > 0 && !Character.isLetter(path.charAt(letter))) letter--;
        if (letter > 0) {
            out.add(path.substring(0, letter) + "%" + String.format("%02X", (int) path.charAt(letter))
                    + path.substring(letter + 1));
        }
        out.add(path.replaceFirst("^/([^/]+)/", "/$1/./"));
        out.add(path.replace("/", "/%2f").replaceFirst("^/%2f", "/"));
        return out;
    }

    /** The pattern with its parameters filled: real objects for reads, ids that do not exist for writes. */
    private String concrete(String pattern, boolean unsafe) {
        String id;
        if (pattern.startsWith("/api/v2/jobs/") || pattern.startsWith("/jobs/"))
            id = Long.toString(unsafe ? MISSING : JOB);
        else if (pattern.startsWith("/api/v2/job_events/")) id = Long.toString(unsafe ? MISSING : eventId);
        else if (pattern.startsWith("/api/v2/users/")) id = Long.toString(unsafe ? MISSING : aliceId);
        else if (pattern.startsWith("/api/v2/teams/")) id = Long.toString(unsafe ? MISSING : team);
        else id = Long.toString(MISSING);
        String asset = pattern.contains("jquery") ? "jquery.min.js" : "app.css";
        return pattern.replace("{id}", id).replace("{other}", id).replace("<path>", asset);
    }

    private int send(String method, String path, Caller caller) {
        int status = sendOnce(method, path, caller);
        // Jetty's minimum request data rate (http.min-request-rate) can cut off even this 8-byte body with 408 when
        // the shared machine is busy; that is the slowloris rule, not the access rule under test: ask again
        return status == 408 ? sendOnce(method, path, caller) : status;
    }

    private int sendOnce(String method, String path, Caller caller) {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.uri("/").getPort() + path))
                .timeout(Duration.ofSeconds(10));
        boolean body = !Set.of("GET", "HEAD", "OPTIONS", "TRACE").contains(method);
        b.method(method, body ? HttpRequest.BodyPublishers.ofString("not json") : HttpRequest.BodyPublishers.noBody());
        if (body) b.header("Content-Type", "application/json");
        if (authorization.containsKey(caller)) b.header("Authorization", authorization.get(caller));
        try {
            if (path.contains("/events/stream")) { // lasts as long as the job runs: the status is what counts here
                HttpResponse<java.io.InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                r.body().close();
                return r.statusCode();
            }
            return client.send(b.build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " as " + caller + ": " + e, e);
        }
    }

    private String token(String json, String auth) {
        HttpResponse<String> r = Http.postJson(api("/api/v2/tokens/"), json, auth);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).get("token").asText();
    }

    private URI api(String path) {
        return node.uri(path);
    }
}
