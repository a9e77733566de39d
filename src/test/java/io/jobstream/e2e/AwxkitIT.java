package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.AwxkitVenv;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 18, SPEC §12: AWX's own client, awxkit 24.6.1 unmodified (its {@code awx} CLI and its Python API), against a
 * real node that runs real playbooks: session login, token login, users, teams, jobs with filters and formats,
 * stdout, monitor, cancel, and the websocket through awxkit's {@code WSClient} with AWX's cookie name. And what must
 * not work: anonymous metadata, forged logins, password guessing at {@code /api/login/}, someone else's tokens.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AwxkitIT {
    private static final String ALICE = TestUsers.basic("alice", "alice-pw");

    private RunningServer node;
    private String host;
    private long hello;

    @BeforeAll
    void start() throws Exception {
        AwxkitVenv.venv(); // first: a machine without awxkit fails here, saying what to install
        node = RunningServer.start(
                TempDirs.make("awxkit"),
                Map.of(
                        "playbook-dir",
                        Path.of("playbooks").toAbsolutePath().toString(),
                        "auth.failed-logins-per-user",
                        "3"));
        host = "http://127.0.0.1:" + node.uri("/").getPort();
        HttpResponse<String> alice = Http.postJson(
                node.uri("/api/v2/users/"), "{\"username\":\"alice\",\"password\":\"alice-pw\"}", TestUsers.ADMIN_AUTH);
        assertThat(alice.statusCode()).as(alice.body()).isEqualTo(201);
        hello = launch("{\"playbook\":\"hello.yml\"}");
        await().atMost(Duration.ofMinutes(2))
                .until(() -> job(hello).path("event_processing_finished").asBoolean());
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    @Test
    void awx_ping_me_and_login_work_with_a_session_and_the_token_login_gives_works_as_conf_token() {
        JsonNode ping = json(admin("ping"));
        assertThat(ping.has("version")).isTrue();
        assertThat(ping.path("instances").size()).isEqualTo(1);
        assertThat(ok(admin("me", "-f", "human")))
                .contains("admin")
                .contains("id")
                .contains("username");

        String token = json(admin("login", "-f", "json")).path("token").asText();
        assertThat(token).isNotBlank();
        JsonNode me = json(awx("--conf.token", token, "me", "-f", "json"));
        assertThat(me.path("results").get(0).path("username").asText()).isEqualTo("admin");
        JsonNode jobs = json(awx("--conf.token", token, "jobs", "list", "-f", "json"));
        assertThat(jobs.path("count").asInt()).isGreaterThanOrEqualTo(1);

        AwxkitVenv.Result refused = awx("--conf.username", "admin", "--conf.password", "wrong", "login", "-f", "json");
        assertThat(refused.output()).contains("Unauthorized").doesNotContain("\"token\"");
        AwxkitVenv.Result badToken = awx("--conf.token", "not-a-token", "me", "-f", "json");
        assertThat(badToken.exit()).isNotZero();
    }

    @Test
    void awx_users_and_teams_create_get_list_modify_and_delete() {
        long carol = json(admin("users", "create", "--username", "carol", "--password", "carol-pw", "-f", "json"))
                .path("id")
                .asLong();
        assertThat(carol).isPositive();
        assertThat(ok(admin("users", "get", "carol", "-f", "yaml"))).contains("username: carol");
        String listed = ok(admin("users", "list", "--username", "carol", "-f", "human"));
        assertThat(listed).contains("carol").doesNotContain("admin");
        admin("users", "modify", "carol", "--is_superuser", "true");
        for (JsonNode u : json(admin("users", "list", "--is_superuser", "true", "-f", "json"))
                .path("results"))
            assertThat(u.path("is_superuser").asBoolean()).as(u.toString()).isTrue();
        assertThat(Http.get(node.uri("/api/v2/users/" + carol + "/")).body()).contains("\"is_superuser\":true");
        admin("users", "modify", "carol", "--password", "carol-new");
        assertThat(Http.get(node.uri("/api/v2/me/"), TestUsers.basic("carol", "carol-new"))
                        .statusCode())
                .isEqualTo(200);
        AwxkitVenv.Result rename = awx(
                "--conf.username",
                "admin",
                "--conf.password",
                TestUsers.ADMIN_PASSWORD,
                "users",
                "modify",
                "carol",
                "--username",
                "caroline");
        assertThat(rename.exit())
                .as("a username cannot change: said, not ignored")
                .isNotZero();
        assertThat(rename.output()).contains("cannot be changed");
        JsonNode descending = json(admin("users", "list", "--all", "--order_by=-username", "-f", "json"));
        List<String> names = new ArrayList<>();
        descending.path("results").forEach(u -> names.add(u.path("username").asText()));
        assertThat(names).contains("admin", "alice", "carol").isSortedAccordingTo(java.util.Comparator.reverseOrder());
        for (String bad : List.of("?order_by=password", "?username=a%00b", "?organization=1", "?id=x")) {
            HttpResponse<String> r = Http.get(node.uri("/api/v2/users/" + bad));
            assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
        }
        admin("users", "delete", "carol");
        assertThat(Http.get(node.uri("/api/v2/users/" + carol + "/")).statusCode())
                .isEqualTo(404);

        long team = json(admin("teams", "create", "--name", "ops", "-f", "json"))
                .path("id")
                .asLong();
        assertThat(ok(admin("teams", "list", "--name", "ops", "-f", "human"))).contains("ops");
        admin("teams", "modify", "ops", "--name", "ops2");
        assertThat(json(admin("teams", "get", Long.toString(team), "-f", "json"))
                        .path("name")
                        .asText())
                .isEqualTo("ops2");
        admin("teams", "delete", "ops2");
        assertThat(Http.get(node.uri("/api/v2/teams/" + team + "/")).statusCode())
                .isEqualTo(404);
    }

    @Test
    void awx_jobs_list_get_and_stdout_show_real_jobs_with_filters_and_formats() {
        JsonNode all = json(admin("jobs", "list", "-f", "json"));
        assertThat(all.path("count").asInt())
                .isEqualTo(Http.getJson(node.uri("/api/v2/jobs/")).path("count").asInt());
        assertThat(ok(admin("jobs", "list", "--status", "successful", "-f", "human")))
                .contains(Long.toString(hello))
                .contains("hello.yml");
        JsonNode byName = json(admin("jobs", "list", "--name", "hello.yml", "--order_by=-id", "-f", "json"));
        assertThat(byName.path("results").get(0).path("name").asText()).isEqualTo("hello.yml");
        assertThat(json(admin("jobs", "list", "--playbook", "nothing.yml", "-f", "json"))
                        .path("count")
                        .asInt())
                .isZero();
        assertThat(ok(admin("jobs", "get", Long.toString(hello), "-f", "yaml")))
                .contains("status: successful")
                .contains("event_processing_finished: true");
        String stdout = ok(admin("jobs", "stdout", Long.toString(hello)));
        String rest = Http.get(node.uri("/api/v2/jobs/" + hello + "/stdout/?format=txt_download"))
                .body();
        assertThat(stdout).isEqualTo(rest + "\n").contains("Hello from jobstream");
    }

    @Test
    void awx_jobs_monitor_prints_a_running_jobs_output_until_it_ends() {
        long slow = launch("{\"playbook\":\"slow.yml\",\"extra_vars\":{\"steps\":5}}");
        String out = ok(AwxkitVenv.awx(
                List.of(
                        "--conf.host",
                        host,
                        "--conf.username",
                        "admin",
                        "--conf.password",
                        TestUsers.ADMIN_PASSWORD,
                        "jobs",
                        "monitor",
                        Long.toString(slow)),
                300));
        assertThat(out)
                .contains("Starting Standard Out Stream")
                .contains("step 5 of 5")
                .contains("PLAY RECAP")
                .contains("End of Standard Out Stream");
        assertThat(job(slow).path("status").asText()).isEqualTo("successful");
    }

    @Test
    void awxkits_python_api_reads_jobs_and_events_cancels_and_watches_through_wsclient() {
        AwxkitVenv.Result r =
                AwxkitVenv.python("api_session.py", List.of(host, "admin", TestUsers.ADMIN_PASSWORD), 300);
        assertThat(r.exit()).as(r.output()).isZero();
        String[] lines = r.output().trim().split("\n");
        JsonNode out = Http.json(lines[lines.length - 1]);
        assertThat(out.path("session_cookie_name").asText()).isEqualTo("awx_sessionid");
        assertThat(out.path("has_session").asBoolean()).isTrue();
        assertThat(out.path("me").asText()).isEqualTo("admin");
        assertThat(out.path("job_id").asLong()).isEqualTo(hello);
        assertThat(out.path("summary_fields").has("user_capabilities")).isTrue();
        List<Integer> counters = new ArrayList<>();
        out.path("event_counters").forEach(c -> counters.add(c.asInt()));
        int stored = job(hello).path("stored_events").asInt();
        assertThat(counters).hasSize(stored).startsWith(1, 2, 3);

        long canceled = out.path("canceled_job").asLong();
        assertThat(out.path("can_cancel").asBoolean()).isTrue();
        assertThat(out.path("canceled_status").asText()).isEqualTo("canceled");
        assertThat(job(canceled).path("status").asText()).isEqualTo("canceled");
        assertThat(out.path("ws_accept").asBoolean())
                .as("WSClient authenticated by awx_sessionid")
                .isTrue();
        assertThat(out.path("ws_groups").toString()).contains("job_events-" + canceled);
        List<Integer> live = new ArrayList<>();
        out.path("ws_event_counters").forEach(c -> live.add(c.asInt()));
        assertThat(live).isNotEmpty();
        for (int i = 0; i < live.size(); i++)
            assertThat(live.get(i)).as("in order, no gaps").isEqualTo(i + 1);
        assertThat(out.path("ws_statuses").toString()).contains("canceled");
    }

    @Test
    void resources_jobstream_does_not_have_answer_awxs_json_404() {
        for (String path : List.of(
                "/api/v2/job_templates/",
                "/api/v2/job_templates/1/launch/",
                "/api/v2/inventories/",
                "/api/v2/projects/1/",
                "/api/v2/organizations/")) {
            HttpResponse<String> r = Http.get(node.uri(path));
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).contains("application/json");
            assertThat(Http.json(r.body()).path("detail").asText()).isEqualTo("Not found.");
        }
        // awx asks these for grantable roles before any users/teams command: nothing to grant, and no crash
        HttpResponse<String> roles = send("OPTIONS", "/api/v2/organizations/", TestUsers.ADMIN_AUTH);
        assertThat(roles.statusCode()).isEqualTo(200);
        assertThat(Http.json(roles.body()).path("object_roles").size()).isZero();
        assertThat(Http.json(roles.body()).path("actions").size()).isZero();
    }

    @Test
    void anonymous_roots_show_only_paths_and_anonymous_options_are_refused() {
        HttpResponse<String> root = send("GET", "/api/", null);
        assertThat(root.statusCode()).isEqualTo(200);
        assertThat(root.headers().allValues("Set-Cookie")).anyMatch(c -> c.startsWith("csrftoken="));
        assertThat(Http.json(root.body()).path("current_version").asText()).isEqualTo("/api/v2/");
        HttpResponse<String> v2 = send("GET", "/api/v2/", null);
        assertThat(v2.statusCode()).isEqualTo(200);
        List<String> names = new ArrayList<>();
        Http.json(v2.body()).fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("ping", "me", "users", "teams", "jobs");
        Http.json(v2.body()).forEach(v -> assertThat(v.asText()).startsWith("/api/v2/"));
        for (String body : List.of(root.body(), v2.body()))
            assertThat(body).doesNotContain("alice").doesNotContain("hello.yml").doesNotContain("admin");

        for (String path : List.of("/api/v2/users/", "/api/v2/jobs/1/", "/api/v2/teams/", "/api/v2/organizations/")) {
            assertThat(send("OPTIONS", path, null).statusCode())
                    .as("anonymous OPTIONS " + path)
                    .isEqualTo(401);
        }
        // a user sees the fields; creating users and teams, and deleting users, only for admins
        JsonNode users = Http.json(send("OPTIONS", "/api/v2/users/", ALICE).body());
        assertThat(users.path("actions").has("GET")).isTrue();
        assertThat(users.path("actions").has("POST")).isFalse();
        assertThat(Http.json(send("OPTIONS", "/api/v2/users/", TestUsers.ADMIN_AUTH)
                                .body())
                        .path("actions")
                        .path("POST")
                        .path("username")
                        .path("required")
                        .asBoolean())
                .isTrue();
        assertThat(send("OPTIONS", "/api/v2/users/1/", ALICE)
                        .headers()
                        .firstValue("Allow")
                        .orElse(""))
                .doesNotContain("DELETE")
                .contains("PATCH");
        assertThat(send("OPTIONS", "/api/v2/users/1/", TestUsers.ADMIN_AUTH)
                        .headers()
                        .firstValue("Allow")
                        .orElse(""))
                .contains("DELETE");
        assertThat(Http.json(send("OPTIONS", "/api/v2/jobs/", ALICE).body())
                        .path("actions")
                        .path("GET")
                        .path("status")
                        .path("filterable")
                        .asBoolean())
                .isTrue();
    }

    @Test
    void api_login_needs_awxs_csrf_check_and_throttles_bad_passwords_like_every_login() throws Exception {
        String csrf = "csrf-token-for-the-api-login-test";
        String form = "username=alice&password=alice-pw&next=" + URLEncoder.encode("/api/", StandardCharsets.UTF_8);
        HttpResponse<String> noCsrf = login(form, null, null);
        assertThat(noCsrf.statusCode()).isEqualTo(403);
        assertThat(noCsrf.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("awx_sessionid="));
        assertThat(login(form, csrf, "http://evil.example").statusCode())
                .as("a login posted by another site")
                .isEqualTo(403);

        HttpResponse<String> in = login(form, csrf, null);
        assertThat(in.statusCode()).isEqualTo(302);
        assertThat(in.headers().firstValue("Location").orElse("")).isEqualTo("/api/");
        assertThat(in.headers().firstValue("X-API-Session-Cookie-Name").orElse(""))
                .isEqualTo("awx_sessionid");
        String cookie = in.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith("awx_sessionid="))
                .findFirst()
                .orElseThrow();
        assertThat(cookie).containsIgnoringCase("HttpOnly");
        String session = cookie.substring("awx_sessionid=".length(), cookie.indexOf(';'));
        HttpResponse<String> me =
                send(HttpRequest.newBuilder(node.uri("/api/v2/me/")).header("Cookie", "awx_sessionid=" + session));
        assertThat(Http.json(me.body()).path("results").get(0).path("username").asText())
                .isEqualTo("alice");

        HttpResponse<String> offsite = login(
                "username=alice&password=alice-pw&next=" + URLEncoder.encode("//evil.example/", StandardCharsets.UTF_8),
                csrf,
                null);
        assertThat(offsite.headers().firstValue("Location").orElse("")).doesNotContain("evil");

        // guesses at another user's password (dave's: alice's credential stays usable for the other tests)
        assertThat(Http.postJson(
                                node.uri("/api/v2/users/"),
                                "{\"username\":\"dave\",\"password\":\"dave-pw\"}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(201);
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            HttpResponse<String> bad = login("username=dave&password=guess" + i, csrf, null);
            statuses.add(bad.statusCode());
            assertThat(bad.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("awx_sessionid="));
            if (bad.statusCode() == 429)
                assertThat(bad.headers().firstValue("Retry-After")).isPresent();
        }
        assertThat(statuses).startsWith(401).contains(429).containsOnly(401, 429);
    }

    @Test
    void personal_tokens_are_for_oneself_unless_admin() {
        HttpResponse<String> own = Http.postJson(
                node.uri("/api/v2/users/alice/personal_tokens/"),
                "{\"description\":\"AWX CLI\",\"application\":null,\"scope\":\"write\"}",
                ALICE);
        assertThat(own.statusCode()).as(own.body()).isEqualTo(201);
        String token = Http.json(own.body()).path("token").asText();
        assertThat(Http.json(Http.get(node.uri("/api/v2/me/"), "Bearer " + token)
                                .body())
                        .path("results")
                        .get(0)
                        .path("username")
                        .asText())
                .isEqualTo("alice");
        for (String other : List.of("admin", "1", "nobody-here", "999999")) {
            HttpResponse<String> r =
                    Http.postJson(node.uri("/api/v2/users/" + other + "/personal_tokens/"), "{}", ALICE);
            assertThat(r.statusCode())
                    .as("alice for " + other + " (no telling who exists)")
                    .isEqualTo(403);
            assertThat(Http.get(node.uri("/api/v2/users/" + other + "/personal_tokens/"), ALICE)
                            .statusCode())
                    .isEqualTo(403);
        }
        HttpResponse<String> byAdmin =
                Http.postJson(node.uri("/api/v2/users/alice/personal_tokens/"), "{}", TestUsers.ADMIN_AUTH);
        assertThat(byAdmin.statusCode()).isEqualTo(201);
        assertThat(Http.get(node.uri("/api/v2/users/nobody-here/personal_tokens/"), TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(404);
        assertThat(Http.postJson(node.uri("/api/v2/users/alice/personal_tokens/"), "{\"scope\":\"read\"}", ALICE)
                        .statusCode())
                .as("a read scope would be a promise this node does not enforce")
                .isEqualTo(400);
        assertThat(Http.postJson(
                                node.uri("/api/v2/users/alice/personal_tokens/"),
                                "{}",
                                TestUsers.basic("alice", "wrong"))
                        .statusCode())
                .isEqualTo(401);
    }

    private long launch(String body) {
        HttpResponse<String> r = Http.postJson(node.uri("/api/v2/jobs/"), body, TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).path("id").asLong();
    }

    private JsonNode job(long id) {
        return Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
    }

    /** awx as the admin, with a session login (no token), as a user of the CLI runs it. */
    private AwxkitVenv.Result admin(String... args) {
        List<String> all =
                new ArrayList<>(List.of("--conf.username", "admin", "--conf.password", TestUsers.ADMIN_PASSWORD));
        all.addAll(List.of(args));
        return ok(awx(all.toArray(String[]::new)), all);
    }

    private AwxkitVenv.Result awx(String... args) {
        List<String> all = new ArrayList<>(List.of("--conf.host", host, "--conf.color", "f"));
        all.addAll(List.of(args));
        return AwxkitVenv.awx(all, 120);
    }

    private static AwxkitVenv.Result ok(AwxkitVenv.Result r, List<String> args) {
        assertThat(r.exit()).as("awx " + args + ": " + r.output()).isZero();
        return r;
    }

    private static String ok(AwxkitVenv.Result r) {
        assertThat(r.exit()).as(r.output()).isZero();
        return r.output();
    }

    private static JsonNode json(AwxkitVenv.Result r) {
        assertThat(r.exit()).as(r.output()).isZero();
        return Http.json(r.output());
    }

    private HttpResponse<String> login(String form, String csrf, String origin) {
        HttpRequest.Builder b = HttpRequest.newBuilder(node.uri("/api/login/"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (csrf != null) b.header("Cookie", "csrftoken=" + csrf).header("X-CSRFToken", csrf);
        if (origin != null) b.header("Origin", origin);
        return send(b);
    }

    private HttpResponse<String> send(String method, String path, String authorization) {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(node.uri(path)).method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) b.header("Authorization", authorization);
        return send(b);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build()
                    .send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
