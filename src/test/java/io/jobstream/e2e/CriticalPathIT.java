package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.WsTestClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole critical path in one process: HTTP ingest, queue, COPY into (embedded) PostgreSQL, websocket fan-out,
 * REST. Three jobs of 5,000 events each are posted in shuffled order by concurrent emitters, 5% of them twice.
 */
class CriticalPathIT {
    private static final int JOBS = 3;
    private static final int EVENTS = 5_000;
    private static final long FIRST_JOB = 101;

    @TempDir
    Path dataDir;

    @Test
    void every_event_is_stored_once_delivered_once_per_subscriber_and_shown_in_line_order() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir)) {
            List<WsTestClient> clients = new ArrayList<>();
            for (int j = 0; j < JOBS; j++) clients.add(subscribe(server, FIRST_JOB + j));

            List<String> lines = new ArrayList<>();
            for (int j = 0; j < JOBS; j++) for (int c = 1; c <= EVENTS; c++) lines.add(Events.event(FIRST_JOB + j, c));
            Random random = new Random(42);
            int redelivered = lines.size() / 20;
            for (int i = 0; i < redelivered; i++) lines.add(lines.get(random.nextInt(JOBS * EVENTS)));
            Collections.shuffle(lines, random);

            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger duplicates = new AtomicInteger();
            postConcurrently(server, lines, accepted, duplicates);
            assertThat(accepted.get()).isEqualTo(JOBS * EVENTS);
            assertThat(duplicates.get()).isEqualTo(redelivered);

            for (int j = 0; j < JOBS; j++) {
                HttpResponse<String> eof =
                        Http.post(server.uri("/api/v2/job_events/ingest/"), Events.eof(FIRST_JOB + j, EVENTS));
                assertThat(eof.statusCode()).isEqualTo(200);
            }
            for (int j = 0; j < JOBS; j++) {
                long job = FIRST_JOB + j;
                JsonNode detail = Http.getJson(server.uri("/api/v2/jobs/" + job + "/"));
                assertThat(detail.path("event_processing_finished").asBoolean())
                        .as("job %d finished", job)
                        .isTrue();
                assertThat(detail.path("status").asText()).isEqualTo("successful");
                JsonNode last =
                        Http.getJson(server.uri("/api/v2/jobs/" + job + "/job_events/?order_by=-counter&limit=1"));
                assertThat(last.path("results").get(0).path("counter").asInt()).isEqualTo(EVENTS);
                assertThat(Http.getJson(server.uri("/api/v2/jobs/" + job + "/job_events/?page_size=1"))
                                .path("count")
                                .asInt())
                        .isEqualTo(EVENTS);
                assertThat(Http.get(server.uri("/api/v2/jobs/" + job + "/stdout/?format=txt"))
                                .body())
                        .isEqualTo(Events.expectedText(job, EVENTS));
                assertEveryCounterOnce(clients.get(j), job);
            }
        }
    }

    private static WsTestClient subscribe(RunningServer server, long job) throws Exception {
        WsTestClient client = WsTestClient.connect(server.websocketUri(), "csrftoken=e2e", true);
        assertThat(client.next().path("accept").asBoolean()).isTrue();
        client.send("{\"xrftoken\":\"e2e\",\"groups\":{\"job_events\":[" + job + "],\"jobs\":[\"summary\"]}}");
        assertThat(client.next().path("groups_current").toString()).contains("job_events-" + job);
        return client;
    }

    private static void postConcurrently(
            RunningServer server, List<String> lines, AtomicInteger accepted, AtomicInteger duplicates)
            throws Exception {
        ExecutorService emitters = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> posts = new ArrayList<>();
            for (int from = 0; from < lines.size(); from += 250) {
                String body = String.join("\n", lines.subList(from, Math.min(from + 250, lines.size())));
                posts.add(emitters.submit(() -> {
                    HttpResponse<String> r = Http.post(server.uri("/api/v2/job_events/ingest/"), body);
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    JsonNode reply = Http.json(r.body());
                    assertThat(reply.path("rejected")).isEmpty();
                    accepted.addAndGet(reply.path("accepted").asInt());
                    duplicates.addAndGet(reply.path("duplicates").asInt());
                }));
            }
            for (Future<?> f : posts) f.get(2, TimeUnit.MINUTES);
        } finally {
            emitters.shutdownNow();
        }
    }

    /**
     * Reads the client's frames until every counter and the job's summary arrived, failing on any counter seen twice.
     */
    private static void assertEveryCounterOnce(WsTestClient client, long job) {
        Map<Integer, Boolean> seen = new ConcurrentHashMap<>();
        List<JsonNode> summaries = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            String frame;
            while ((frame = client.frames.poll()) != null) {
                JsonNode m = Http.json(frame);
                if ("jobs".equals(m.path("group_name").asText())
                        && m.path("unified_job_id").asLong() == job) {
                    summaries.add(m);
                }
                if (!"job_events".equals(m.path("group_name").asText())) continue;
                assertThat(m.path("job").asLong()).isEqualTo(job);
                assertThat(seen.put(m.path("counter").asInt(), true))
                        .as("counter %s twice", m.path("counter"))
                        .isNull();
            }
            return seen.size() == EVENTS && !summaries.isEmpty();
        });
        assertThat(seen.keySet()).hasSize(EVENTS).allMatch(c -> c >= 1 && c <= EVENTS);
        assertThat(summaries).hasSize(1);
        assertThat(summaries.get(0).path("final_counter").asInt()).isEqualTo(EVENTS);
    }
}
