package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One user's launches cannot take every running slot or the waiting room from the others (issue 13.3): real launches
 * of the slow sample playbook by two users on a node with 3 slots, 2 per user and 2 waiting per user.
 */
class FairLaunchIT {
    @TempDir
    static Path dataDir;

    static RunningServer node;
    static String alice;
    static String bob;
    static final List<Long> launched = new ArrayList<>();

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir,
                Map.of(
                        "playbook-dir",
                        AnsibleJobs.PLAYBOOKS.toString(),
                        "jobs.max-running",
                        "3",
                        "jobs.max-running-per-user",
                        "2",
                        "jobs.max-pending-per-user",
                        "2",
                        "jobs.cancel-grace",
                        "2s"));
        alice = user("alice");
        bob = user("bob");
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            launched.forEach(id -> Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), ""));
            node.close();
        }
    }

    private static String user(String name) {
        HttpResponse<String> r = Http.postJson(
                node.uri("/api/v2/users/"),
                "{\"username\": \"" + name + "\", \"password\": \"pw-" + name + "\"}",
                TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return TestUsers.basic(name, "pw-" + name);
    }

    private static HttpResponse<String> post(String who) {
        return Http.postJson(
                node.uri("/api/v2/jobs/"), "{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": 60}}", who);
    }

    private static long launch(String who) {
        HttpResponse<String> r = post(who);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long id = Http.json(r.body()).path("id").asLong();
        launched.add(id);
        return id;
    }

    private static String status(long id) {
        return Http.getJson(node.uri("/api/v2/jobs/" + id + "/")).path("status").asText();
    }

    private static void awaitStatus(long id, String status) {
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> status(id).equals(status));
    }

    private static void cancel(long id) {
        assertThat(Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "").statusCode())
                .isEqualTo(202);
        awaitStatus(id, "canceled");
    }

    @Test
    void each_user_gets_a_share_of_the_running_slots_and_of_the_waiting_room() throws Exception {
        long a1 = launch(alice);
        long a2 = launch(alice);
        awaitStatus(a1, "running");
        awaitStatus(a2, "running");
        long a3 = launch(alice);
        // a launch takes a slot or joins the waiting room before it is answered: waiting now is waiting, not late
        assertThat(MetricsText.sum(node.uri("/metrics"), "jobs_pending"))
                .as("a3 waits")
                .isEqualTo(1);
        assertThat(status(a3)).as("alice runs 2 at most, even with a slot free").isEqualTo("pending");

        long b1 = launch(bob);
        awaitStatus(b1, "running"); // the slot alice could not take is bob's at once

        long a4 = launch(alice);
        HttpResponse<String> a5 = post(alice);
        assertThat(a5.statusCode()).as(a5.body()).isEqualTo(429);
        assertThat(Http.json(a5.body()).path("detail").asText()).contains("jobs.max-pending-per-user=2");
        assertThat(a5.headers().firstValue("Retry-After")).isPresent();
        assertThat(MetricsText.sum(node.uri("/metrics"), "jobs_refused_total")).isEqualTo(1);
        assertThat(Http.get(node.uri("/metrics")).body()).contains("reason=\"user_pending\"");
        long b2 = launch(bob); // bob still has his own share of the waiting room
        assertThat(status(b2)).isEqualTo("pending");

        // a freed slot goes to the waiting user whose turn came longest ago: alice (a2 started before b1)
        cancel(a1);
        awaitStatus(a3, "running");
        assertThat(status(b2)).isEqualTo("pending");
        // then alice runs 1 (a3) and bob 1 (b1): equals, and bob's turn came longer ago, so b2 starts though a4 is
        // older
        cancel(a2);
        awaitStatus(b2, "running");
        assertThat(status(a4)).isEqualTo("pending");
    }
}
