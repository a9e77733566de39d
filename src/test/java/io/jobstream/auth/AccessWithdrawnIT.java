package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** What an open websocket sees once its user loses access to a job it watches, against a real node. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessWithdrawnIT {
    private static final String ALICE = TestUsers.basic("alice", "alice-pw");
    private static final String BOB = TestUsers.basic("bob", "bob-pw");
    private RunningServer node;
    private long team;
    private long bob;
    private long alice;
    /** Alice's job, which the node allocated for her. */
    private long job;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(TempDirs.make("access-withdrawn"));
        team = Http.json(Http.postJson(node.uri("/api/v2/teams/"), "{\"name\":\"watchers\"}", TestUsers.ADMIN_AUTH)
                        .body())
                .get("id")
                .asLong();
        for (String user : new String[] {"alice", "bob"}) {
            JsonNode created = Http.json(Http.postJson(
                            node.uri("/api/v2/users/"),
                            "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                            TestUsers.ADMIN_AUTH)
                    .body());
            if (user.equals("bob")) bob = created.get("id").asLong();
            else alice = created.get("id").asLong();
            assertThat(Http.postJson(
                                    node.uri("/api/v2/teams/" + team + "/users/"),
                                    "{\"id\":" + created.get("id").asLong() + "}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(204);
        }
        job = freshJob(ALICE);
    }

    /** A job the node allocates for the user (an ingest token made without a job), with its first event stored. */
    private long freshJob(String user) {
        long id = Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", user)
                        .body())
                .get("job")
                .asLong();
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(id, 1), user)
                        .statusCode())
                .isEqualTo(200);
        return id;
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private void share(boolean shared) {
        assertThat(Http.postJson(
                                node.uri("/api/v2/jobs/" + job + "/teams/"),
                                "{\"id\":" + team + (shared ? "" : ",\"disassociate\":true") + "}",
                                ALICE)
                        .statusCode())
                .isEqualTo(204);
    }

    private WsTestClient watch() throws Exception {
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=w", BOB, true);
        assertThat(ws.next().path("accept").asBoolean()).isTrue();
        ws.send("{\"xrftoken\":\"w\",\"groups\":{\"job_events\":[" + job + "]}}");
        return ws;
    }

    /** The first error or groups_current answer to the subscription. */
    private static JsonNode answer(WsTestClient ws) throws Exception {
        JsonNode frame = ws.next();
        while (!frame.has("error") && !frame.has("groups_current")) frame = ws.next();
        return frame;
    }

    @Test
    void a_watcher_whose_job_is_unshared_is_disconnected_and_refused_when_subscribing_again() throws Exception {
        share(true);
        WsTestClient watching = watch();
        assertThat(answer(watching).path("groups_current").toString()).contains("job_events-" + job);

        share(false);
        assertThat(watching.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
        WsTestClient again = watch();
        assertThat(answer(again).path("error").asText())
                .isEqualTo("access denied to channel job_events for resource id " + job);
        again.abort();
    }

    @Test
    void a_watcher_removed_from_the_team_is_disconnected() throws Exception {
        share(true);
        WsTestClient watching = watch();
        assertThat(answer(watching).path("groups_current").toString()).contains("job_events-" + job);

        assertThat(Http.postJson(
                                node.uri("/api/v2/teams/" + team + "/users/"),
                                "{\"id\":" + bob + ",\"disassociate\":true}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(204);
        assertThat(watching.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
        assertThat(Http.postJson(
                                node.uri("/api/v2/teams/" + team + "/users/"),
                                "{\"id\":" + bob + "}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(204);
        share(false);
    }

    @Test
    void a_deleted_user_is_disconnected_and_refused_and_their_jobs_stay_for_admins() throws Exception {
        JsonNode carol = Http.json(Http.postJson(
                        node.uri("/api/v2/users/"),
                        "{\"username\":\"carol\",\"password\":\"carol-pw\"}",
                        TestUsers.ADMIN_AUTH)
                .body());
        String asCarol = TestUsers.basic("carol", "carol-pw");
        long carols = freshJob(asCarol);
        WsTestClient watching = WsTestClient.connect(node.websocketUri(), "csrftoken=w", asCarol, true);
        assertThat(watching.next().path("accept").asBoolean()).isTrue();
        watching.send("{\"xrftoken\":\"w\",\"groups\":{\"job_events\":[" + carols + "]}}");
        assertThat(answer(watching).path("groups_current").toString()).contains("job_events-" + carols);

        assertThat(Http.delete(node.uri("/api/v2/users/" + carol.get("id").asLong() + "/"), TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(204);
        assertThat(watching.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
        assertThat(Http.get(node.uri("/api/v2/me/"), asCarol).statusCode()).isEqualTo(401);
        assertThat(Http.get(node.uri("/api/v2/jobs/" + carols + "/"), TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(200);
        assertThat(Http.get(node.uri("/api/v2/jobs/" + carols + "/"), BOB).statusCode())
                .isEqualTo(403);

        long admin = Http.json(
                        Http.get(node.uri("/api/v2/me/"), TestUsers.ADMIN_AUTH).body())
                .path("results")
                .get(0)
                .get("id")
                .asLong();
        assertThat(Http.delete(node.uri("/api/v2/users/" + admin + "/"), TestUsers.ADMIN_AUTH)
                        .statusCode())
                .as("not oneself")
                .isEqualTo(403);
        assertThat(Http.delete(node.uri("/api/v2/users/" + admin + "/"), BOB).statusCode())
                .as("admins only")
                .isEqualTo(403);
    }

    @Test
    void deleting_the_team_a_job_was_shared_with_disconnects_its_watchers() throws Exception {
        long temporary = Http.json(
                        Http.postJson(node.uri("/api/v2/teams/"), "{\"name\":\"temporary\"}", TestUsers.ADMIN_AUTH)
                                .body())
                .get("id")
                .asLong();
        assertThat(Http.postJson(
                                node.uri("/api/v2/teams/" + temporary + "/users/"),
                                "{\"id\":" + bob + "}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(204);
        assertThat(Http.postJson(
                                node.uri("/api/v2/teams/" + temporary + "/users/"),
                                "{\"id\":" + alice + "}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(204);
        assertThat(Http.postJson(node.uri("/api/v2/jobs/" + job + "/teams/"), "{\"id\":" + temporary + "}", ALICE)
                        .statusCode())
                .isEqualTo(204);
        WsTestClient watching = watch();
        assertThat(answer(watching).path("groups_current").toString()).contains("job_events-" + job);

        assertThat(Http.delete(node.uri("/api/v2/teams/" + temporary + "/"), TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(204);
        assertThat(watching.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
        assertThat(Http.get(node.uri("/api/v2/jobs/" + job + "/"), BOB).statusCode())
                .isEqualTo(403);
    }
}
