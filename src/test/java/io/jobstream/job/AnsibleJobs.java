package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Helpers for the tests that run real ansible-playbook against a real node. */
final class AnsibleJobs {
    static final Path PLAYBOOKS = Path.of("playbooks").toAbsolutePath();
    static final Path PLUGINS = Path.of("ansible/callback_plugins").toAbsolutePath();
    private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;]*[A-Za-z]");

    private AnsibleJobs() {}

    static String stripAnsi(String s) {
        return ANSI.matcher(s).replaceAll("");
    }

    static JsonNode job(RunningServer node, long id) {
        return Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
    }

    /** Waits until the job has a final status and all its events (up to the EOF's final_counter) are stored. */
    static JsonNode awaitDone(RunningServer node, long id, Duration atMost) {
        await().atMost(atMost)
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(() -> {
                    JsonNode j = job(node, id);
                    return !List.of("new", "pending", "waiting", "running")
                                    .contains(j.path("status").asText())
                            && j.path("event_processing_finished").asBoolean();
                });
        return job(node, id);
    }

    /** Every stored event of the job in counter order, through the paged REST API. */
    static List<JsonNode> events(RunningServer node, long id) {
        List<JsonNode> all = new ArrayList<>();
        URI next = node.uri("/api/v2/jobs/" + id + "/job_events/?order_by=counter&page_size=200");
        while (next != null) {
            JsonNode page = Http.getJson(next);
            page.path("results").forEach(all::add);
            String n = page.path("next").asText(null);
            next = n == null || n.isEmpty() || n.equals("null") ? null : node.uri(n);
        }
        return all;
    }

    static void assertCountersComplete(List<JsonNode> events, JsonNode job) {
        int finalCounter = job.path("final_counter").asInt();
        assertThat(finalCounter).as("final_counter").isPositive();
        assertThat(events).hasSize(finalCounter);
        for (int i = 0; i < events.size(); i++) {
            assertThat(events.get(i).path("counter").asInt())
                    .as("counter at position " + i)
                    .isEqualTo(i + 1);
        }
    }

    static List<String> types(List<JsonNode> events) {
        return events.stream().map(e -> e.path("event").asText()).toList();
    }
}
