package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SseClient;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 7's access matrix against a real node (embedded PostgreSQL, real websockets): three users, admin, alice and
 * bob (alice and bob share the team "ops"), each looking at their own job, another's job and a job shared with them,
 * through REST, stdout, the websocket and ingest.
 *
 * <p>Jobs: alice owns a1 (hers alone) and a2 (shared with ops); bob owns b1 (his alone) and b2 (shared with
 * ops). Each user had the node allocate their jobs (an ingest token made without a job), which is how a user gets a
 * job to feed; no one creates a job by choosing its id (issue 12 item 2).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessMatrixIT {
    private static final String ALICE = TestUsers.basic("alice", "alice-pw");
    private static final String BOB = TestUsers.basic("bob", "bob-pw");
    private static final String ADMIN = TestUsers.ADMIN_AUTH;

    /** user → job → whether they may see it (own, other, shared), as the rule says. */
    private final Map<String, Map<Long, Boolean>> SEE = new LinkedHashMap<>();
    /**
     * user → job → whether they may write its events: owners only (sharing gives sight, not writing; admins are
     * trusted writers, who never write into a job a user owns).
     */
    private final Map<String, Map<Long, Boolean>> WRITE = new LinkedHashMap<>();

    private long a1;
    private long a2;
    private long b1;
    private long b2;

    private long team;
    private RunningServer node;
    private final Map<Long, Long> firstEventId = new LinkedHashMap<>();

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(TempDirs.make("access-matrix"));
        for (String user : List.of("alice", "bob")) {
            assertThat(Http.postJson(
                                    api("/api/v2/users/"),
                                    "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                                    ADMIN)
                            .statusCode())
                    .isEqualTo(201);
        }
        team = Http.json(Http.postJson(api("/api/v2/teams/"), "{\"name\":\"ops\"}", ADMIN)
                        .body())
                .get("id")
                .asLong();
        for (String user : List.of("alice", "bob")) {
            long id = Http.json(Http.get(api("/api/v2/me/"), user.equals("alice") ? ALICE : BOB)
                            .body())
                    .path("results")
                    .get(0)
                    .get("id")
                    .asLong();
            assertThat(Http.postJson(api("/api/v2/teams/" + team + "/users/"), "{\"id\":" + id + "}", ADMIN)
                            .statusCode())
                    .isEqualTo(204);
        }
        a1 = ingestFirst(ALICE);
        a2 = ingestFirst(ALICE);
        b1 = ingestFirst(BOB);
        b2 = ingestFirst(BOB);
        SEE.put(ADMIN, Map.of(a1, true, b1, true, a2, true));
        SEE.put(ALICE, Map.of(a1, true, b1, false, b2, true));
        SEE.put(BOB, Map.of(b1, true, a1, false, a2, true));
        WRITE.put(ADMIN, Map.of(a1, false, b1, false));
        WRITE.put(ALICE, Map.of(a1, true, b1, false, b2, false));
        WRITE.put(BOB, Map.of(b1, true, a1, false, a2, false));
        assertThat(Http.postJson(api("/api/v2/jobs/" + a2 + "/teams/"), "{\"id\":" + team + "}", ALICE)
                        .statusCode())
                .isEqualTo(204);
        assertThat(Http.postJson(api("/api/v2/jobs/" + b2 + "/teams/"), "{\"id\":" + team + "}", BOB)
                        .statusCode())
                .isEqualTo(204);
        for (long job : List.of(a1, a2, b1, b2)) {
            firstEventId.put(
                    job,
                    Http.getJson(api("/api/v2/jobs/" + job + "/job_events/"))
                            .path("results")
                            .get(0)
                            .get("id")
                            .asLong());
        }
    }

    /** A fresh job the node allocates for the user (an ingest token without a job), with its first event. */
    private long ingestFirst(String user) {
        HttpResponse<String> token = Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", user);
        assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
        long job = Http.json(token.body()).get("job").asLong();
        HttpResponse<String> r = Http.post(api("/api/v2/job_events/ingest/"), Events.event(job, 1), user);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return job;
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private URI api(String path) {
        return node.uri(path);
    }

    private static String who(String auth) {
        return auth.equals(ADMIN) ? "admin" : auth.equals(ALICE) ? "alice" : "bob";
    }

    @Test
    void rest_shows_a_job_its_events_and_its_events_by_id_only_to_those_who_may_see_it() {
        SoftAssertions soft = new SoftAssertions();
        SEE.forEach((user, jobs) -> jobs.forEach((job, allowed) -> {
            int expected = allowed ? 200 : 403;
            String cell = who(user) + " on job " + job;
            for (String path : List.of(
                    "/api/v2/jobs/" + job + "/",
                    "/api/v2/jobs/" + job + "/job_events/",
                    "/api/v2/jobs/" + job + "/job_events/children_summary/",
                    "/api/v2/jobs/" + job + "/job_host_summaries/",
                    "/api/v2/jobs/" + job + "/timeline/",
                    "/api/v2/jobs/" + job + "/timeline/?format=matrix",
                    "/api/v2/jobs/" + job + "/compare/" + job + "/",
                    "/api/v2/job_events/" + firstEventId.get(job) + "/",
                    "/api/v2/job_events/" + firstEventId.get(job) + "/children/")) {
                HttpResponse<String> r = Http.get(api(path), user);
                soft.assertThat(r.statusCode()).as(cell + ": GET " + path).isEqualTo(expected);
                if (!allowed) {
                    soft.assertThat(Http.json(r.body()).path("detail").asText())
                            .as(cell)
                            .isEqualTo("You do not have permission to perform this action.");
                }
            }
        }));
        soft.assertAll();
    }

    @Test
    void a_compare_needs_both_jobs_visible() {
        assertThat(Http.get(api("/api/v2/jobs/" + a1 + "/compare/" + b2 + "/"), ALICE)
                        .statusCode())
                .isEqualTo(200);
        assertThat(Http.get(api("/api/v2/jobs/" + a1 + "/compare/" + b1 + "/"), ALICE)
                        .statusCode())
                .isEqualTo(403);
        assertThat(Http.get(api("/api/v2/jobs/" + b1 + "/compare/" + a1 + "/"), ALICE)
                        .statusCode())
                .isEqualTo(403);
    }

    @Test
    void the_cross_job_search_holds_exactly_the_events_of_the_jobs_each_user_may_see() {
        assertThat(searched(ADMIN)).contains(b2, b1, a2, a1);
        assertThat(searched(ALICE)).containsExactly(b2, a2, a1);
        assertThat(searched(BOB)).containsExactly(b2, b1, a2);
    }

    /** The distinct jobs of the search's first page, newest first. */
    private List<Long> searched(String user) {
        HttpResponse<String> r = Http.get(api("/api/v2/job_events/?page_size=200"), user);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<Long> ids = new ArrayList<>();
        for (JsonNode e : Http.json(r.body()).path("results")) {
            long job = e.get("job").asLong();
            if (!ids.contains(job)) ids.add(job);
        }
        return ids;
    }

    @Test
    void the_jobs_list_holds_exactly_the_jobs_each_user_may_see() {
        assertThat(listed(ADMIN)).containsExactly(b2, b1, a2, a1);
        assertThat(listed(ALICE)).containsExactly(b2, a2, a1);
        assertThat(listed(BOB)).containsExactly(b2, b1, a2);
        assertThat(Http.json(Http.get(api("/api/v2/jobs/"), BOB).body())
                        .path("count")
                        .asInt())
                .isEqualTo(3);
    }

    private List<Long> listed(String user) {
        List<Long> ids = new ArrayList<>();
        for (JsonNode j : Http.json(Http.get(api("/api/v2/jobs/"), user).body()).path("results"))
            ids.add(j.get("id").asLong());
        return ids;
    }

    @Test
    void stdout_is_given_only_to_those_who_may_see_the_job() {
        SoftAssertions soft = new SoftAssertions();
        SEE.forEach((user, jobs) -> jobs.forEach((job, allowed) -> {
            HttpResponse<String> r = Http.get(api("/api/v2/jobs/" + job + "/stdout/?format=txt"), user);
            soft.assertThat(r.statusCode()).as(who(user) + " stdout of " + job).isEqualTo(allowed ? 200 : 403);
            String first = Events.expectedText(job, 1).trim();
            if (allowed)
                soft.assertThat(r.body()).as(who(user) + " stdout of " + job).contains(first);
            else soft.assertThat(r.body()).doesNotContain(first);
        }));
        soft.assertAll();
    }

    @Test
    void an_event_stream_is_given_only_to_those_who_may_see_the_job() throws Exception {
        SoftAssertions soft = new SoftAssertions();
        for (Map.Entry<String, Map<Long, Boolean>> row : SEE.entrySet()) {
            for (Map.Entry<Long, Boolean> cell : row.getValue().entrySet()) {
                long job = cell.getKey();
                String as = who(row.getKey()) + " streaming job " + job;
                try (SseClient sse =
                        SseClient.open(api("/api/v2/jobs/" + job + "/events/stream/"), row.getKey(), null)) {
                    soft.assertThat(sse.status).as(as).isEqualTo(cell.getValue() ? 200 : 403);
                    if (cell.getValue()) {
                        SseClient.Event first = sse.next(30);
                        soft.assertThat(first.id()).as(as).isEqualTo("1");
                        soft.assertThat(Http.json(first.data()).get("job").asLong())
                                .as(as)
                                .isEqualTo(job);
                    } else {
                        sse.ended.get(30, TimeUnit.SECONDS);
                        soft.assertThat(sse.events)
                                .as(as + ": nothing of the job")
                                .isEmpty();
                    }
                }
            }
        }
        soft.assertAll();
    }

    @Test
    void a_websocket_subscription_to_a_job_the_user_may_not_see_gets_awxs_access_denied_and_nothing_else()
            throws Exception {
        for (Map.Entry<String, Map<Long, Boolean>> row : SEE.entrySet()) {
            WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=matrix", row.getKey(), true);
            assertThat(ws.next().path("accept").asBoolean()).isTrue();
            StringBuilder jobs = new StringBuilder();
            StringBuilder resume = new StringBuilder();
            row.getValue().keySet().forEach(j -> {
                jobs.append(jobs.length() == 0 ? "" : ",").append(j);
                resume.append(resume.length() == 0 ? "" : ",")
                        .append("\"")
                        .append(j)
                        .append("\":0");
            });
            // resume from 0: the subscriber catches up from the store, so a visible job's stored events must arrive
            ws.send("{\"xrftoken\":\"matrix\",\"groups\":{\"job_events\":[" + jobs + "]},\"resume\":{" + resume + "}}");
            List<String> denied = new ArrayList<>();
            JsonNode current = null;
            while (current == null) {
                JsonNode frame = ws.next();
                if (frame.has("error")) denied.add(frame.get("error").asText());
                else if (frame.has("groups_current")) current = frame.get("groups_current");
            }
            for (Map.Entry<Long, Boolean> cell : row.getValue().entrySet()) {
                String group = "job_events-" + cell.getKey();
                String refusal = "access denied to channel job_events for resource id " + cell.getKey();
                if (cell.getValue()) {
                    assertThat(current.toString())
                            .as(who(row.getKey()) + " " + group)
                            .contains(group);
                    assertThat(denied).doesNotContain(refusal);
                } else {
                    assertThat(current.toString())
                            .as(who(row.getKey()) + " " + group)
                            .doesNotContain(group);
                    assertThat(denied).as(who(row.getKey())).contains(refusal);
                }
            }
            List<Long> seen = new ArrayList<>();
            String frame;
            while ((frame = ws.frames.poll(1500, TimeUnit.MILLISECONDS)) != null) {
                for (JsonNode e : framesOf(frame))
                    if (e.has("job")) seen.add(e.get("job").asLong());
            }
            row.getValue().forEach((job, allowed) -> {
                if (allowed)
                    assertThat(seen)
                            .as(who(row.getKey()) + " sees events of " + job)
                            .contains(job);
                else
                    assertThat(seen)
                            .as(who(row.getKey()) + " sees no event of " + job)
                            .doesNotContain(job);
            });
            ws.abort();
        }
    }

    private static List<JsonNode> framesOf(String frame) {
        JsonNode n = Http.json(frame);
        List<JsonNode> out = new ArrayList<>();
        if (n.isArray()) n.forEach(out::add);
        else out.add(n);
        return out;
    }

    @Test
    void ingest_stores_lines_for_jobs_the_credential_may_write_and_rejects_the_others_with_a_reason() {
        double before = MetricsText.value(api("/metrics"), "events_rejected_total{reason=\"forbidden\"");
        int counter = 100;
        int refused = 0;
        for (Map.Entry<String, Map<Long, Boolean>> row : WRITE.entrySet()) {
            for (Map.Entry<Long, Boolean> cell : row.getValue().entrySet()) {
                long job = cell.getKey();
                HttpResponse<String> r =
                        Http.post(api("/api/v2/job_events/ingest/"), Events.event(job, ++counter), row.getKey());
                String as = who(row.getKey()) + " writing job " + job + ": " + r.body();
                if (cell.getValue()) {
                    assertThat(r.statusCode()).as(as).isEqualTo(200);
                } else {
                    refused++;
                    assertThat(r.statusCode()).as(as).isEqualTo(403);
                    assertThat(r.body()).as(as).contains("not allowed to write events of job " + job);
                }
            }
        }
        // one request, runs of two jobs (a, a, b, b, a, b): alice's lines are stored, those for bob's job rejected
        // with their line numbers (the verdict is asked once per run of equal job ids, and applied to every line)
        HttpResponse<String> mixed = Http.post(
                api("/api/v2/job_events/ingest/"),
                String.join(
                        "\n",
                        Events.event(a1, 300),
                        Events.event(a1, 301),
                        Events.event(b1, 300),
                        Events.event(b1, 301),
                        Events.event(a1, 302),
                        Events.event(b1, 302)),
                ALICE);
        assertThat(mixed.statusCode()).isEqualTo(200);
        JsonNode reply = Http.json(mixed.body());
        assertThat(reply.toString()).contains("not allowed to write events of job " + b1);
        assertThat(reply.path("accepted").asInt()).as(reply.toString()).isEqualTo(3);
        List<Integer> rejectedLines = new ArrayList<>();
        reply.path("rejected").forEach(p -> rejectedLines.add(p.path("line").asInt()));
        assertThat(rejectedLines).as(reply.toString()).containsExactly(3, 4, 6);
        for (int c = 300; c <= 302; c++) {
            assertThat(Http.getJson(api("/api/v2/jobs/" + a1 + "/job_events/?counter=" + c))
                            .path("count")
                            .asInt())
                    .isEqualTo(1);
        }
        assertThat(Http.getJson(api("/api/v2/jobs/" + b1 + "/job_events/?counter=300"))
                        .path("count")
                        .asInt())
                .isZero();
        assertThat(MetricsText.value(api("/metrics"), "events_rejected_total{reason=\"forbidden\""))
                .isEqualTo(before + refused + 3);
    }

    @Test
    void a_jobs_ingest_token_writes_that_job_only_and_opens_nothing_else() {
        HttpResponse<String> created =
                Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":" + a1 + "}", ALICE);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String token = "Bearer " + Http.json(created.body()).get("token").asText();
        assertThat(Http.post(api("/api/v2/job_events/ingest/"), Events.event(a1, 400), token)
                        .statusCode())
                .isEqualTo(200);
        assertThat(Http.post(api("/api/v2/job_events/ingest/"), Events.event(b1, 400), token)
                        .statusCode())
                .isEqualTo(403);
        assertThat(Http.get(api("/api/v2/jobs/" + a1 + "/"), token).statusCode())
                .as("not an API credential")
                .isEqualTo(403);
        assertThat(Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"every_job\":true}", ALICE)
                        .statusCode())
                .as("an emitter token (every job) is for admins")
                .isEqualTo(403);
        assertThat(Http.postJson(api("/api/v2/tokens/"), "{\"kind\":\"ingest\",\"job\":" + b1 + "}", ALICE)
                        .statusCode())
                .as("nor for someone else's job")
                .isEqualTo(403);
    }

    /** Issue 18: the routes AWX's client uses hold the same rules (personal tokens, team detail, OPTIONS, roots). */
    @Test
    void awx_client_routes_give_each_user_only_their_own() {
        SoftAssertions soft = new SoftAssertions();
        for (String user : List.of(ADMIN, ALICE, BOB)) {
            String me = who(user);
            for (String owner : List.of("alice", "bob")) {
                int expected = user.equals(ADMIN) || owner.equals(me) ? 201 : 403;
                soft.assertThat(Http.postJson(api("/api/v2/users/" + owner + "/personal_tokens/"), "{}", user)
                                .statusCode())
                        .as(me + " makes a personal token of " + owner)
                        .isEqualTo(expected);
                soft.assertThat(Http.get(api("/api/v2/users/" + owner + "/personal_tokens/"), user)
                                .statusCode())
                        .as(me + " lists the personal tokens of " + owner)
                        .isEqualTo(expected == 201 ? 200 : 403);
            }
            soft.assertThat(Http.get(api("/api/v2/teams/" + team + "/"), user).statusCode())
                    .as(me + " reads team ops, which every user here is in")
                    .isEqualTo(200);
            HttpResponse<String> options = Http.send(java.net.http.HttpRequest.newBuilder(api("/api/v2/users/"))
                    .header("Authorization", user)
                    .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .build());
            soft.assertThat(Http.json(options.body()).path("actions").has("POST"))
                    .as(me + " is offered user creation")
                    .isEqualTo(user.equals(ADMIN));
        }
        HttpResponse<String> rename = Http.send(java.net.http.HttpRequest.newBuilder(api("/api/v2/teams/" + team + "/"))
                .header("Authorization", ALICE)
                .header("Content-Type", "application/json")
                .method("PATCH", java.net.http.HttpRequest.BodyPublishers.ofString("{\"name\":\"mine\"}"))
                .build());
        soft.assertThat(rename.statusCode()).as("only admins rename teams").isEqualTo(403);
        soft.assertAll();
    }

    @Test
    void admin_only_routes_refuse_other_users() {
        assertThat(Http.get(api("/api/v2/stats/"), ALICE).statusCode()).isEqualTo(403);
        assertThat(Http.get(api("/api/v2/stats/"), ADMIN).statusCode()).isEqualTo(200);
        assertThat(Http.get(api("/api/v2/diagnosis/"), ALICE).statusCode()).isEqualTo(403);
        assertThat(Http.get(api("/api/v2/diagnosis/?window=30s"), ADMIN).statusCode())
                .isEqualTo(200);
        // a job's viewers read its lag in sentences; others may not, not even that the job is diagnosed
        assertThat(Http.get(api("/api/v2/jobs/" + a1 + "/diagnosis/"), ALICE).statusCode())
                .isEqualTo(200);
        assertThat(Http.get(api("/api/v2/jobs/" + a1 + "/diagnosis/"), BOB).statusCode())
                .isEqualTo(403);
        assertThat(Http.get(api("/api/v2/storage/"), ALICE).statusCode()).isEqualTo(403);
        assertThat(Http.get(api("/api/v2/storage/"), ADMIN).statusCode()).isEqualTo(200);
        String cleanup = "{\"events_older_than\": \"30d\", \"dry_run\": true}";
        assertThat(Http.postJson(api("/api/v2/storage/cleanup/"), cleanup, BOB).statusCode())
                .as("cleanup is for admins")
                .isEqualTo(403);
        assertThat(Http.postJson(api("/api/v2/storage/cleanup/"), cleanup, ADMIN)
                        .statusCode())
                .isEqualTo(200);
        assertThat(Http.get(api("/api/v2/users/"), BOB).statusCode()).isEqualTo(403);
        assertThat(Http.postJson(api("/api/v2/users/"), "{\"username\":\"eve\",\"password\":\"x\"}", BOB)
                        .statusCode())
                .isEqualTo(403);
        assertThat(Http.postJson(api("/api/v2/jobs/" + a1 + "/teams/"), "{\"id\":1}", BOB)
                        .statusCode())
                .as("bob may not share alice's job")
                .isEqualTo(403);
    }
}
