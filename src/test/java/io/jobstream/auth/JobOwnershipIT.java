package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 12 items 2 and 4, issue 13 items 3 and 5 against a real node: a job's owner is fixed by who really created
 * it (no squatting an id by token or ingest line), trusted writers never write into a user's job, job ids are
 * range-checked, an emitter token follows its owner's current rights, server-side ids cannot be exhausted, and what
 * a user may create is bounded.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobOwnershipIT {
    private static final String ADMIN = TestUsers.ADMIN_AUTH;
    private RunningServer node;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(
                TempDirs.make("job-ownership"),
                Map.of(
                        "auth.max-new-jobs-per-user",
                        "3",
                        "auth.max-tokens-per-user",
                        "6",
                        "playbook-dir",
                        Path.of("playbooks").toAbsolutePath().toString()));
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private URI api(String path) {
        return node.uri(path);
    }

    /** A new user; returns their Basic credentials. */
    private String user(String name, boolean superuser) {
        HttpResponse<String> r = Http.postJson(
                api("/api/v2/users/"),
                "{\"username\":\"" + name + "\",\"password\":\"" + name + "-pw\",\"is_superuser\":" + superuser + "}",
                ADMIN);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return TestUsers.basic(name, name + "-pw");
    }

    private JsonNode token(String body, String auth) {
        HttpResponse<String> r = Http.postJson(api("/api/v2/tokens/"), body, auth);
        assertThat(r.statusCode()).as(body + ": " + r.body()).isEqualTo(201);
        return Http.json(r.body());
    }

    private HttpResponse<String> ingest(String body, String auth) {
        return Http.post(api("/api/v2/job_events/ingest/"), body, auth);
    }

    private double rejected(String reason) {
        return MetricsText.value(api("/metrics"), "events_rejected_total{reason=\"" + reason + "\"");
    }

    @Test
    void a_user_cannot_squat_a_job_id_so_what_trusted_writers_send_there_stays_out_of_their_sight() {
        String mallory = user("mallory", false);
        HttpResponse<String> byToken =
                Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":7777}", mallory);
        assertThat(byToken.statusCode()).as(byToken.body()).isEqualTo(400);
        assertThat(byToken.body()).contains("Job 7777 does not exist");

        double before = rejected("no_such_job");
        long own = token("{\"kind\":\"ingest\"}", mallory).get("job").asLong();
        HttpResponse<String> byLine = ingest(Events.event(own, 1) + "\n" + Events.event(7778, 1), mallory);
        assertThat(byLine.statusCode()).as("the rest of the request is stored").isEqualTo(200);
        assertThat(byLine.body()).contains("job 7778 does not exist");
        assertThat(rejected("no_such_job")).isEqualTo(before + 1);
        assertThat(ingest(Events.event(7777, 1), mallory).statusCode()).isEqualTo(403);

        // now the trusted writers use those ids: an admin, an emitter token (every job)
        assertThat(ingest(Events.event(7777, 1), ADMIN).statusCode()).isEqualTo(200);
        String emitter = "Bearer "
                + token("{\"kind\":\"ingest\",\"every_job\":true}", ADMIN)
                        .get("token")
                        .asText();
        assertThat(ingest(Events.event(7778, 1), emitter).statusCode()).isEqualTo(200);
        for (long job : List.of(7777L, 7778L)) {
            assertThat(Http.get(api("/api/v2/jobs/" + job + "/"), mallory).statusCode())
                    .as("job " + job)
                    .isEqualTo(403);
            assertThat(Http.get(api("/api/v2/jobs/" + job + "/stdout/?format=txt"), mallory)
                            .statusCode())
                    .isEqualTo(403);
        }
        assertThat(Http.get(api("/api/v2/jobs/" + own + "/"), mallory).statusCode())
                .isEqualTo(200);
    }

    @Test
    void trusted_writers_never_write_into_a_job_a_user_owns_but_its_owner_and_their_token_do() {
        String olive = user("olive", false);
        JsonNode token = token("{\"kind\":\"ingest\",\"description\":\"hand-run playbook\"}", olive);
        long job = token.get("job").asLong();
        assertThat(Http.getJson(api("/api/v2/jobs/" + job + "/")).path("status").asText())
                .isEqualTo("new");
        String emitter = "Bearer "
                + token("{\"kind\":\"ingest\",\"every_job\":true}", ADMIN)
                        .get("token")
                        .asText();
        for (String trusted : List.of(ADMIN, emitter)) {
            HttpResponse<String> r = ingest(Events.event(job, 5), trusted);
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("not allowed to write events of job " + job + ": it belongs to a user");
        }
        assertThat(ingest(Events.event(job, 1), "Bearer " + token.get("token").asText())
                        .statusCode())
                .isEqualTo(200);
        assertThat(ingest(Events.event(job, 2), olive).statusCode()).isEqualTo(200);
        assertThat(Http.getJson(api("/api/v2/jobs/" + job + "/job_events/"))
                        .path("count")
                        .asInt())
                .isEqualTo(2);
        HttpResponse<String> adminsToken =
                Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":" + job + "}", ADMIN);
        assertThat(adminsToken.statusCode())
                .as("no token that writes into a user's job, admins' neither")
                .isEqualTo(403);
    }

    @Test
    void job_ids_outside_1_to_2147483647_are_refused_in_tokens_paths_lines_and_subscriptions() throws Exception {
        for (String bad : List.of("-5", "0", "9223372036854775807", "2147483648", "\"12\"", "1.5")) {
            HttpResponse<String> r =
                    Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":" + bad + "}", ADMIN);
            assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
            assertThat(r.body()).contains("Must be a job id from 1 to 2147483647.");
        }
        for (String path : List.of(
                "/api/v2/jobs/9223372036854775807/",
                "/api/v2/jobs/0/",
                "/api/v2/jobs/-5/job_events/",
                "/api/v2/jobs/2147483648/stdout/")) {
            HttpResponse<String> r = Http.get(api(path));
            assertThat(r.statusCode()).as(path).isEqualTo(400);
            assertThat(r.body()).as(path).contains("is not in 1..2147483647");
        }
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=range", ADMIN, true);
        assertThat(ws.next().path("accept").asBoolean()).isTrue();
        ws.send("{\"xrftoken\":\"range\",\"groups\":{\"job_events\":[2147483648]}}");
        JsonNode answer = ws.next();
        while (!answer.has("error") && !answer.has("groups_current")) answer = ws.next();
        assertThat(answer.path("error").asText())
                .as("even an admin, who may watch ids not created yet")
                .isEqualTo("access denied to channel job_events for resource id 2147483648");
        ws.abort();
        HttpResponse<String> line = ingest(Events.event(2147483648L, 1), ADMIN);
        assertThat(line.statusCode()).isEqualTo(400);
        assertThat(line.body()).contains("job_id: expected an integer from 1 to 2147483647");
    }

    @Test
    void an_emitter_token_stops_writing_as_soon_as_its_owner_is_no_longer_an_admin() {
        String dave = user("dave", true);
        String emitter = "Bearer "
                + token("{\"kind\":\"ingest\",\"every_job\":true}", dave)
                        .get("token")
                        .asText();
        assertThat(ingest(Events.event(9001, 1), emitter).statusCode()).isEqualTo(200);
        long daveId = Http.json(Http.get(api("/api/v2/me/"), dave).body())
                .path("results")
                .get(0)
                .get("id")
                .asLong();
        HttpResponse<String> demoted =
                Http.send(Http.authorized(HttpRequest.newBuilder(api("/api/v2/users/" + daveId + "/")), ADMIN)
                        .header("Content-Type", "application/json")
                        .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"is_superuser\":false}"))
                        .build());
        assertThat(demoted.statusCode()).isEqualTo(200);
        for (long job : List.of(9001L, 9002L)) {
            HttpResponse<String> r = ingest(Events.event(job, 2), emitter);
            assertThat(r.statusCode()).as("job " + job + ": " + r.body()).isEqualTo(403);
            assertThat(r.body()).contains("this emitter token's user is no longer an admin");
        }
        assertThat(Http.getJson(api("/api/v2/jobs/9001/job_events/"))
                        .path("count")
                        .asInt())
                .isEqualTo(1);
        assertThat(Http.get(api("/api/v2/jobs/9002/")).statusCode()).isEqualTo(404);
    }

    @Test
    void ids_emitters_chose_cannot_exhaust_the_servers_ids_for_launches_and_tokens() {
        long next = token("{\"kind\":\"ingest\"}", ADMIN).get("job").asLong() + 1;
        // the attack of issue 13 item 3, now open to trusted writers only: 1,000 EOF lines on the next ids
        StringBuilder eofs = new StringBuilder();
        for (long id = next; id < next + 1000; id++)
            eofs.append(Events.eof(id, 0)).append('\n');
        HttpResponse<String> flood = ingest(eofs.toString(), ADMIN);
        assertThat(flood.statusCode()).as(flood.body()).isEqualTo(200);
        assertThat(Http.json(flood.body()).path("rejected")).isEmpty();

        HttpResponse<String> launch = Http.postJson(
                api("/api/v2/jobs/"), "{\"playbook\":\"hello.yml\",\"inventory\":" + "\"inventory.ini\"}", ADMIN);
        assertThat(launch.statusCode()).as(launch.body()).isEqualTo(201);
        assertThat(Http.json(launch.body()).get("id").asLong()).isEqualTo(next + 1000);
        assertThat(token("{\"kind\":\"ingest\"}", ADMIN).get("job").asLong()).isEqualTo(next + 1001);
    }

    @Test
    void what_one_user_creates_is_bounded_with_a_clear_error_and_a_metric() {
        String quinn = user("quinn", false);
        for (int i = 0; i < 3; i++) token("{\"kind\":\"ingest\"}", quinn);
        HttpResponse<String> fourth = Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", quinn);
        assertThat(fourth.statusCode()).isEqualTo(400);
        assertThat(fourth.body()).contains("auth.max-new-jobs-per-user");
        for (int i = 0; i < 3; i++) token("{}", quinn);
        HttpResponse<String> seventh = Http.postJson(api("/api/v2/tokens/"), "{}", quinn);
        assertThat(seventh.statusCode()).isEqualTo(400);
        assertThat(seventh.body()).contains("auth.max-tokens-per-user");
        assertThat(MetricsText.value(api("/metrics"), "user_limits_reached_total{what=\"new_jobs\""))
                .isEqualTo(1);
        assertThat(MetricsText.value(api("/metrics"), "user_limits_reached_total{what=\"tokens\""))
                .isEqualTo(1);

        String longText = "x".repeat(513);
        assertThat(Http.postJson(api("/api/v2/tokens/"), "{\"description\":\"" + longText + "\"}", ADMIN)
                        .statusCode())
                .isEqualTo(400);
        assertThat(Http.postJson(api("/api/v2/teams/"), "{\"name\":\"" + longText + "\"}", ADMIN)
                        .statusCode())
                .isEqualTo(400);
        assertThat(Http.postJson(
                                api("/api/v2/users/"),
                                "{\"username\":\"" + "u".repeat(151) + "\",\"password\":\"p\"}",
                                ADMIN)
                        .statusCode())
                .isEqualTo(400);
        assertThat(Http.postJson(
                                api("/api/v2/users/"),
                                "{\"username\":\"longpw\",\"password\":\"" + "p".repeat(1025) + "\"}",
                                ADMIN)
                        .statusCode())
                .isEqualTo(400);
        assertThat(Http.get(api("/api/v2/me/"), TestUsers.basic("admin", "p".repeat(2_000)))
                        .statusCode())
                .as("a huge password is refused without hashing it")
                .isEqualTo(401);
    }
}
