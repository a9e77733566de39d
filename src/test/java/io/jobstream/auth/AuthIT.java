package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.postgres.PostgresAuthStore;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Logging in and being refused, against a real node: sessions, CSRF, Basic, tokens, the first-start admin. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthIT {
    private RunningServer node;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(TempDirs.make("auth-it"));
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private double failures(String reason) {
        return MetricsText.value(node.uri("/metrics"), "auth_failures_total{reason=\"" + reason + "\"");
    }

    @Test
    void without_credentials_the_api_answers_401_pages_redirect_to_login_and_probes_stay_open() {
        HttpResponse<String> api = Http.get(node.uri("/api/v2/jobs/"), null);
        assertThat(api.statusCode()).isEqualTo(401);
        assertThat(Http.json(api.body()).path("detail").asText())
                .isEqualTo("Authentication credentials were not provided.");
        assertThat(api.headers().firstValue("WWW-Authenticate")).isPresent();
        HttpResponse<String> page = Http.get(node.uri("/jobs/5?x=1"), null);
        assertThat(page.statusCode()).isEqualTo(302);
        assertThat(page.headers().firstValue("Location"))
                .hasValue("/login/?next=" + URLEncoder.encode("/jobs/5?x=1", StandardCharsets.UTF_8));
        assertThat(Http.get(node.uri("/"), null).statusCode()).isEqualTo(302);
        for (String open : List.of("/api/v2/ping/", "/api/v2/health/", "/metrics", "/login/", "/static/app.css")) {
            assertThat(Http.get(node.uri(open), null).statusCode()).as(open).isEqualTo(200);
        }
        for (String closed : List.of("/api/v2/stats/", "/api/v2/me/", "/api/v2/jobs/1/stdout/", "/api/v2/users/")) {
            assertThat(Http.get(node.uri(closed), null).statusCode()).as(closed).isEqualTo(401);
        }
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), "{}", null).statusCode())
                .isEqualTo(401);
    }

    @Test
    void basic_with_a_wrong_password_gets_401_and_is_counted_by_reason() {
        double wrong = failures("bad_password");
        double unknown = failures("unknown_user");
        double token = failures("bad_token");
        HttpResponse<String> r = Http.get(node.uri("/api/v2/me/"), TestUsers.basic("admin", "not-the-password"));
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(Http.json(r.body()).path("detail").asText()).isEqualTo("Invalid username/password.");
        assertThat(Http.get(node.uri("/api/v2/me/"), TestUsers.basic("nobody", "x"))
                        .statusCode())
                .isEqualTo(401);
        assertThat(Http.get(node.uri("/api/v2/me/"), "Bearer not-a-token").statusCode())
                .isEqualTo(401);
        assertThat(failures("bad_password")).isEqualTo(wrong + 1);
        assertThat(failures("unknown_user")).isEqualTo(unknown + 1);
        assertThat(failures("bad_token")).isEqualTo(token + 1);
        assertThat(Http.get(node.uri("/metrics"), null).body()).doesNotContain("not-the-password");
    }

    @Test
    void an_unauthenticated_websocket_handshake_is_closed_with_1008() throws Exception {
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=x", null, true);
        assertThat(ws.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
        WsTestClient wrong =
                WsTestClient.connect(node.websocketUri(), "csrftoken=x", TestUsers.basic("admin", "no"), true);
        assertThat(wrong.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
    }

    /** Logs in through the form as a browser would; returns the Cookie header the browser would then send. */
    private String logIn(String next) {
        HttpResponse<String> r = Http.send(HttpRequest.newBuilder(
                        node.uri("/login/?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", "http://127.0.0.1:" + node.uri("/").getPort())
                .POST(HttpRequest.BodyPublishers.ofString("username=admin&password=" + TestUsers.ADMIN_PASSWORD))
                .build());
        assertThat(r.statusCode()).isEqualTo(302);
        List<String> cookies = r.headers().allValues("Set-Cookie");
        String session = cookies.stream()
                .filter(c -> c.startsWith("sessionid="))
                .findFirst()
                .orElseThrow();
        assertThat(session)
                .contains("HttpOnly")
                .containsIgnoringCase("SameSite=Lax")
                .doesNotContain("Secure");
        String csrf = cookies.stream()
                .filter(c -> c.startsWith("csrftoken="))
                .findFirst()
                .orElseThrow();
        assertThat(csrf).doesNotContain("HttpOnly"); // the page's script must read it
        return session.split(";", 2)[0] + "; " + csrf.split(";", 2)[0];
    }

    private static String cookie(String cookies, String name) {
        for (String c : cookies.split("; ")) if (c.startsWith(name + "=")) return c.substring(name.length() + 1);
        throw new AssertionError("no " + name);
    }

    @Test
    void a_login_gives_a_session_that_works_until_logout_and_redirects_only_to_local_paths() {
        HttpResponse<String> first = Http.send(HttpRequest.newBuilder(node.uri("/login/?next=%2Fjobs%2F7"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=admin&password=" + TestUsers.ADMIN_PASSWORD))
                .build());
        assertThat(first.headers().firstValue("Location")).hasValue("/jobs/7");
        HttpResponse<String> evil = Http.send(HttpRequest.newBuilder(
                        node.uri("/login/?next=https%3A%2F%2Fevil.example%2F"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=admin&password=" + TestUsers.ADMIN_PASSWORD))
                .build());
        assertThat(evil.headers().firstValue("Location")).hasValue("/");
        HttpResponse<String> bad = Http.send(HttpRequest.newBuilder(node.uri("/login/?next=%2F"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=admin&password=wrong"))
                .build());
        assertThat(bad.headers().firstValue("Location").orElseThrow()).startsWith("/login/?error=1");
        assertThat(bad.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("sessionid="));

        String cookies = logIn("/");
        HttpResponse<String> me = Http.send(HttpRequest.newBuilder(node.uri("/api/v2/me/"))
                .header("Cookie", cookies)
                .build());
        assertThat(me.statusCode()).isEqualTo(200);
        JsonNode page = Http.json(me.body());
        assertThat(page.path("count").asInt()).isEqualTo(1);
        assertThat(page.path("results").get(0).path("username").asText()).isEqualTo("admin");
        assertThat(page.path("results").get(0).path("password").asText()).isEqualTo("$encrypted$");
        assertThat(Http.send(HttpRequest.newBuilder(node.uri("/"))
                                .header("Cookie", cookies)
                                .build())
                        .statusCode())
                .isEqualTo(200);

        HttpResponse<String> out = Http.send(HttpRequest.newBuilder(node.uri("/logout/"))
                .header("Cookie", cookies)
                .header("X-CSRFToken", cookie(cookies, "csrftoken"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
        assertThat(out.statusCode()).isEqualTo(302);
        assertThat(Http.send(HttpRequest.newBuilder(node.uri("/api/v2/me/"))
                                .header("Cookie", cookies)
                                .build())
                        .statusCode())
                .as("the session is gone on the server, not just in the browser")
                .isEqualTo(401);
    }

    @Test
    void a_cookie_authenticated_post_without_the_csrf_header_is_refused() {
        String cookies = logIn("/");
        double before = failures("csrf");
        HttpResponse<String> refused = Http.send(HttpRequest.newBuilder(node.uri("/api/v2/tokens/"))
                .header("Cookie", cookies)
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build());
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(Http.json(refused.body()).path("detail").asText()).startsWith("CSRF Failed");
        HttpResponse<String> wrong = Http.send(HttpRequest.newBuilder(node.uri("/api/v2/tokens/"))
                .header("Cookie", cookies)
                .header("X-CSRFToken", "something-else")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build());
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(failures("csrf")).isEqualTo(before + 2);
        HttpResponse<String> ok = Http.send(HttpRequest.newBuilder(node.uri("/api/v2/tokens/"))
                .header("Cookie", cookies)
                .header("X-CSRFToken", cookie(cookies, "csrftoken"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build());
        assertThat(ok.statusCode()).isEqualTo(201);
        assertThat(Http.postJson(node.uri("/api/v2/tokens/"), "{}", TestUsers.ADMIN_AUTH)
                        .statusCode())
                .as("Basic is exempt: a browser never adds it to another site's request by itself")
                .isEqualTo(201);
    }

    @Test
    void a_cookie_websocket_handshake_from_another_site_is_refused() throws Exception {
        String cookies = logIn("/");
        String port = Integer.toString(node.uri("/").getPort());
        WsTestClient same = connectWithOrigin(cookies, "http://127.0.0.1:" + port);
        assertThat(same.next().path("accept").asBoolean()).isTrue();
        same.abort();
        double before = failures("origin");
        WsTestClient foreign = connectWithOrigin(cookies, "http://evil.example");
        assertThat(foreign.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
        assertThat(failures("origin")).isEqualTo(before + 1);
    }

    private WsTestClient connectWithOrigin(String cookies, String origin) {
        return WsTestClient.connect(node.websocketUri(), Map.of("Cookie", cookies, "Origin", origin), true);
    }

    @Test
    void open_websockets_are_closed_as_soon_as_their_session_is_logged_out_or_their_token_revoked() throws Exception {
        String port = Integer.toString(node.uri("/").getPort());
        String leaving = logIn("/");
        String staying = logIn("/");
        WsTestClient onLeaving = connectWithOrigin(leaving, "http://127.0.0.1:" + port);
        WsTestClient onStaying = connectWithOrigin(staying, "http://127.0.0.1:" + port);
        JsonNode token = Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{}", TestUsers.ADMIN_AUTH)
                .body());
        WsTestClient onToken = WsTestClient.connect(
                node.websocketUri(),
                "csrftoken=x",
                "Bearer " + token.get("token").asText(),
                true);
        for (WsTestClient ws : List.of(onLeaving, onStaying, onToken))
            assertThat(ws.next().path("accept").asBoolean()).isTrue();

        HttpResponse<String> out = Http.send(HttpRequest.newBuilder(node.uri("/logout/"))
                .header("Cookie", leaving)
                .header("X-CSRFToken", cookie(leaving, "csrftoken"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
        assertThat(out.statusCode()).isEqualTo(302);
        assertThat(onLeaving.closed.get(5, TimeUnit.SECONDS))
                .as("the logged-out session's websocket")
                .isEqualTo(1008);

        HttpResponse<String> revoked =
                Http.delete(node.uri("/api/v2/tokens/" + token.get("id").asLong() + "/"), TestUsers.ADMIN_AUTH);
        assertThat(revoked.statusCode()).isEqualTo(204);
        assertThat(onToken.closed.get(5, TimeUnit.SECONDS))
                .as("the revoked token's websocket")
                .isEqualTo(1008);

        // the other session's connection was checked twice and kept: it still answers a subscription
        onStaying.send(
                "{\"xrftoken\":\"" + cookie(staying, "csrftoken") + "\",\"groups\":{\"jobs\":[\"status_changed\"]}}");
        assertThat(onStaying.next().has("groups_current")).isTrue();
        assertThat(onStaying.closed).isNotDone();
        onStaying.abort();
    }

    @Test
    void tokens_are_shown_once_listed_without_their_secret_and_stop_working_when_revoked() {
        JsonNode created =
                Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{\"description\":\"ci\"}", TestUsers.ADMIN_AUTH)
                        .body());
        String secret = created.get("token").asText();
        assertThat(secret).hasSizeGreaterThan(40);
        assertThat(Http.get(node.uri("/api/v2/me/"), "Bearer " + secret).statusCode())
                .isEqualTo(200);
        String list = Http.get(node.uri("/api/v2/tokens/")).body();
        assertThat(list).contains("\"description\":\"ci\"").doesNotContain(secret);
        HttpResponse<String> revoked =
                Http.delete(node.uri("/api/v2/tokens/" + created.get("id").asLong() + "/"), TestUsers.ADMIN_AUTH);
        assertThat(revoked.statusCode()).isEqualTo(204);
        assertThat(Http.get(node.uri("/api/v2/me/"), "Bearer " + secret).statusCode())
                .isEqualTo(401);
    }

    @Test
    void users_are_created_by_admins_and_a_changed_password_replaces_the_old_one_at_once() {
        HttpResponse<String> created = Http.postJson(
                node.uri("/api/v2/users/"),
                "{\"username\":\"dana\",\"password\":\"first\",\"is_superuser\":false}",
                TestUsers.ADMIN_AUTH);
        assertThat(created.statusCode()).isEqualTo(201);
        JsonNode dana = Http.json(created.body());
        assertThat(dana.path("username").asText()).isEqualTo("dana");
        assertThat(dana.path("is_superuser").asBoolean()).isFalse();
        assertThat(dana.path("password").asText()).isEqualTo("$encrypted$");
        assertThat(Http.postJson(
                                node.uri("/api/v2/users/"),
                                "{\"username\":\"dana\",\"password\":\"x\"}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(400);
        JsonNode users = Http.getJson(node.uri("/api/v2/users/?page_size=1"));
        assertThat(users.path("count").asInt()).isGreaterThanOrEqualTo(2);
        assertThat(users.path("next").asText()).contains("page=2");
        String first = TestUsers.basic("dana", "first");
        assertThat(Http.get(node.uri("/api/v2/me/"), first).statusCode()).isEqualTo(200); // now remembered
        HttpResponse<String> changed = Http.send(Http.authorized(
                        HttpRequest.newBuilder(
                                node.uri("/api/v2/users/" + dana.get("id").asLong() + "/")),
                        first)
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"password\":\"second\"}"))
                .build());
        assertThat(changed.statusCode()).isEqualTo(200);
        assertThat(Http.get(node.uri("/api/v2/me/"), first).statusCode())
                .as("the remembered old password")
                .isEqualTo(401);
        assertThat(Http.get(node.uri("/api/v2/me/"), TestUsers.basic("dana", "second"))
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> promote = Http.send(Http.authorized(
                        HttpRequest.newBuilder(
                                node.uri("/api/v2/users/" + dana.get("id").asLong() + "/")),
                        TestUsers.basic("dana", "second"))
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"is_superuser\":true}"))
                .build());
        assertThat(promote.statusCode()).as("no one makes themselves admin").isEqualTo(403);
    }

    @Test
    void the_node_keeps_an_admin_token_for_local_tools_readable_only_by_its_owner() throws Exception {
        Path file = node.dataDir().resolve("cli-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
        String token = Files.readString(file).trim();
        JsonNode me =
                Http.json(Http.get(node.uri("/api/v2/me/"), "Bearer " + token).body());
        assertThat(me.path("results").get(0).path("is_superuser").asBoolean()).isTrue();
    }

    @Test
    void the_first_start_prints_a_random_admin_password_once_and_a_configured_one_never(@TempDir Path dir)
            throws Exception {
        Pattern shown = Pattern.compile("admin password \\(shown once\\): (\\S+)");
        String password;
        try (NodeProcess first = NodeProcess.start("first", dir, Map.of("admin-password", ""))) {
            String log = Files.readString(dir.resolve("node.log"));
            Matcher m = shown.matcher(log);
            assertThat(m.find()).as(log).isTrue();
            password = m.group(1);
            assertThat(m.find()).as("printed once").isFalse();
            assertThat(Http.get(first.uri("/api/v2/me/"), TestUsers.basic("admin", password))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(Http.get(first.uri("/api/v2/me/")).statusCode())
                    .as("not the test password")
                    .isEqualTo(401);
        }
        Files.move(dir.resolve("node.log"), dir.resolve("first.log"));
        try (NodeProcess again = NodeProcess.start("again", dir, Map.of("admin-password", "ignored-now"))) {
            String log = Files.readString(dir.resolve("node.log"));
            assertThat(log)
                    .doesNotContain("shown once")
                    .doesNotContain(password)
                    .doesNotContain("ignored-now");
            assertThat(Http.get(again.uri("/api/v2/me/"), TestUsers.basic("admin", password))
                            .statusCode())
                    .isEqualTo(200);
        }
        // a node given the password: no password in its log at all (RunningServer's nodes all start this way)
        assertThat(Files.readString(dir.resolve("first.log"))).doesNotContain(TestUsers.ADMIN_PASSWORD);
    }

    @Test
    void several_nodes_bootstrapping_one_database_at_once_create_exactly_one_admin() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            Flyway.configure().dataSource(pg.getPostgresDatabase()).load().migrate();
            PostgresAuthStore store = new PostgresAuthStore(pg.getPostgresDatabase());
            ExecutorService nodes = Executors.newFixedThreadPool(4);
            List<Future<Optional<User>>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String hash = "pbkdf2_sha256$1$salt" + i + "$AAAA";
                results.add(nodes.submit((Callable<Optional<User>>) () -> store.createFirstAdmin("admin", hash)));
            }
            int created = 0;
            for (Future<Optional<User>> f : results)
                created += f.get(30, TimeUnit.SECONDS).isPresent() ? 1 : 0;
            nodes.shutdown();
            assertThat(created).isEqualTo(1);
            assertThat(store.userCount()).isEqualTo(1);
            assertThat(store.createFirstAdmin("other", "x"))
                    .as("never once a user exists")
                    .isEmpty();
        }
    }
}
