package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ingest.max-rate on a real node: over it, 429 with Retry-After and nothing stored; the same request later passes. */
class IngestRateLimitIT {
    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(dataDir, Map.of("ingest.max-rate", "25", "ingest.rate-burst", "100"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void an_emitter_over_its_rate_gets_429_with_retry_after_and_its_request_stored_whole_when_sent_again()
            throws Exception {
        long job = 81;
        double limitedBefore = MetricsText.sum(node.uri("/metrics"), "events_rate_limited_total");
        assertThat(post(events(job, 1, 100)).statusCode()).as("the burst").isEqualTo(200);

        String second = events(job, 101, 200);
        HttpResponse<String> refused = post(second);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        long retryAfter =
                Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 4L); // 100 events at 25/s, whatever refilled meanwhile
        assertThat(Http.json(refused.body()).path("detail").asText())
                .contains("ingest.max-rate")
                .contains("nothing of this request");
        assertThat(Http.json(refused.body()).path("retry_after_seconds").asLong())
                .isEqualTo(retryAfter);
        assertThat(Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                        .path("stored_events")
                        .asInt())
                .as("nothing of the refused request")
                .isEqualTo(100);
        assertThat(MetricsText.sum(node.uri("/metrics"), "events_rate_limited_total") - limitedBefore)
                .isEqualTo(100);
        assertThat(MetricsText.value(node.uri("/metrics"), "ingest_requests_total{status=\"429\""))
                .isPositive();

        // the scenario: an emitter that honours Retry-After is accepted once it has waited that long (real time,
        // as the node's rate limiter refills on the node's clock)
        Thread.sleep(retryAfter * 1000);
        HttpResponse<String> again = post(second);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(Http.json(again.body()).path("accepted").asInt()).isEqualTo(100);
        assertThat(Http.getJson(node.uri("/api/v2/jobs/" + job + "/"))
                        .path("stored_events")
                        .asInt())
                .isEqualTo(200);
    }

    private static HttpResponse<String> post(String body) {
        return Http.post(node.uri("/api/v2/job_events/ingest/"), body);
    }

    private static String events(long job, int from, int to) {
        return IntStream.rangeClosed(from, to)
                .mapToObj(c -> Events.event(job, c))
                .collect(Collectors.joining("\n"));
    }
}
