package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 (every resource a user can consume is bounded): each login stores a session row in PostgreSQL, and a user
 * who logs in again and again (a script calling awxkit's {@code load_session()} every minute, or a hostile one in a
 * loop) grew the table without bound for {@code auth.session-timeout}. Now a login beyond
 * {@code auth.max-sessions-per-user} ends that user's oldest session, and no one else's.
 */
class SessionLimitIT {
    private static final int LIMIT = 3;

    @TempDir
    Path dir;

    @Test
    void a_login_beyond_the_limit_ends_the_users_oldest_session_only() {
        try (RunningServer node =
                RunningServer.start(dir, Map.of("auth.max-sessions-per-user", Integer.toString(LIMIT)))) {
            assertThat(Http.postJson(
                                    node.uri("/api/v2/users/"),
                                    "{\"username\":\"bob\",\"password\":\"bob-password\"}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
            String bobs = logIn(node, "/login/", "bob", "bob-password", "sessionid");

            List<String> admins = new ArrayList<>();
            for (int i = 0; i < LIMIT + 2; i++)
                // both login routes share the limit: the form's sessionid and awxkit's awx_sessionid
                admins.add(
                        i % 2 == 0
                                ? logIn(node, "/login/", TestUsers.ADMIN, TestUsers.ADMIN_PASSWORD, "sessionid")
                                : logIn(
                                        node,
                                        "/api/login/",
                                        TestUsers.ADMIN,
                                        TestUsers.ADMIN_PASSWORD,
                                        "awx_sessionid"));

            assertThat(me(node, admins.get(0))).isEqualTo(401);
            assertThat(me(node, admins.get(1))).isEqualTo(401);
            for (String newest : admins.subList(2, admins.size()))
                assertThat(me(node, newest)).isEqualTo(200);
            assertThat(me(node, bobs)).as("another user's session").isEqualTo(200);
            assertThat(MetricsText.value(node.uri("/metrics"), "auth_sessions_ended_total{reason=\"over_limit\""))
                    .isEqualTo(2);
        }
    }

    /** Logs in at {@code path} (the form, or AWX's /api/login/) from the node's own origin; the session cookie. */
    private static String logIn(RunningServer node, String path, String user, String password, String cookieName) {
        String origin = "http://127.0.0.1:" + node.uri("/").getPort();
        String csrf = "csrf-of-this-test-client";
        HttpResponse<String> r = Http.send(HttpRequest.newBuilder(node.uri(path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", origin)
                .header("Referer", origin + path)
                .header("Cookie", "csrftoken=" + csrf)
                .header("X-CSRFToken", csrf)
                .POST(HttpRequest.BodyPublishers.ofString("username=" + user + "&password=" + password))
                .build());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(302);
        String cookie = r.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith(cookieName + "="))
                .findFirst()
                .orElseThrow();
        return cookie.split(";", 2)[0];
    }

    private static int me(RunningServer node, String sessionCookie) {
        return Http.send(HttpRequest.newBuilder(node.uri("/api/v2/me/"))
                        .header("Cookie", sessionCookie)
                        .GET()
                        .build())
                .statusCode();
    }
}
