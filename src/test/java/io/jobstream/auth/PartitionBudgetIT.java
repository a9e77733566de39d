package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 7 against a real node: each block of 1,000 job ids gets its own event partition (a table) on demand;
 * only trusted writers choose ids now, and even they start at most {@code ingest.max-new-partitions} tables a minute.
 */
class PartitionBudgetIT {
    @TempDir
    Path dir;

    @Test
    void ids_spread_over_many_blocks_start_only_the_allowed_number_of_partitions() {
        try (RunningServer node = RunningServer.start(dir, Map.of("ingest.max-new-partitions", "5"))) {
            StringBuilder spread = new StringBuilder();
            for (int block = 1; block <= 50; block++)
                spread.append(Events.event(block * 1000L + 7, 1)).append('\n');
            HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), spread.toString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode reply = Http.json(r.body());
            assertThat(reply.path("accepted").asInt()).isEqualTo(5);
            assertThat(reply.path("rejected")).hasSize(45);
            assertThat(reply.path("rejected").get(0).path("reason").asText())
                    .contains("would need a new event partition")
                    .contains("ingest.max-new-partitions");
            assertThat(MetricsText.value(node.uri("/metrics"), "job_partitions_refused_total"))
                    .isEqualTo(45);
            assertThat(MetricsText.value(node.uri("/metrics"), "events_rejected_total{reason=\"partition_limit\""))
                    .isEqualTo(45);

            // a block that has its partition costs nothing; a request of only new blocks is told to come back later
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(1008, 1))
                            .statusCode())
                    .isEqualTo(200);
            HttpResponse<String> later = Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(99_000, 1));
            assertThat(later.statusCode()).isEqualTo(429);
            assertThat(later.headers().firstValue("Retry-After")).isPresent();
        }
    }
}
