package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.TrustingClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node serving https with a self-signed certificate: the jobs it launches still deliver their events to it. */
class LaunchTlsIT {
    @TempDir
    Path dir;

    @Test
    void a_job_launched_by_a_tls_node_trusts_its_self_signed_certificate_and_delivers_every_event() throws Exception {
        Path data = dir.resolve("data");
        try (RunningServer node = RunningServer.start(
                data, Map.of("tls-self-signed", "true", "playbook-dir", AnsibleJobs.PLAYBOOKS.toString()))) {
            HttpClient client = TrustingClient.of(data.resolve("tls/self-signed.crt"));
            HttpResponse<String> launched = client.send(
                    HttpRequest.newBuilder(node.uri("/api/v2/jobs/"))
                            .header("Authorization", TestUsers.ADMIN_AUTH)
                            .POST(HttpRequest.BodyPublishers.ofString("{\"playbook\": \"hello.yml\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(launched.statusCode()).as(launched.body()).isEqualTo(201);
            long id = Json.MAPPER.readTree(launched.body()).path("id").asLong();
            JsonNode[] job = new JsonNode[1];
            await().atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(300))
                    .ignoreExceptions()
                    .until(() -> {
                        job[0] = Json.MAPPER.readTree(client.send(
                                        HttpRequest.newBuilder(node.uri("/api/v2/jobs/" + id + "/"))
                                                .header("Authorization", TestUsers.ADMIN_AUTH)
                                                .build(),
                                        HttpResponse.BodyHandlers.ofString())
                                .body());
                        return job[0].path("status").asText().equals("successful")
                                && job[0].path("event_processing_finished").asBoolean();
                    });
            String printed = Files.readString(node.jobOutput(id));
            assertThat(printed).doesNotContain("jobstream:");
            String stored = client.send(
                            HttpRequest.newBuilder(node.uri("/api/v2/jobs/" + id + "/stdout/?format=ansi"))
                                    .header("Authorization", TestUsers.ADMIN_AUTH)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertThat(stored).isEqualTo(printed);
        }
    }
}
