package io.jobstream.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.jobstream.event.Json;
import io.jobstream.job.JobRegistry;
import io.jobstream.time.Sleeper;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runs DemoJobs for real (threads, HTTP, real time) against a tiny Javalin that records what a real ingest
 * endpoint would receive, and answers the first post with 503 as a busy node would.
 */
class DemoJobsIT {
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final AtomicInteger posts = new AtomicInteger();
    private final AtomicLong nextJobId = new AtomicLong(100);
    private final List<String> createdJobs = new CopyOnWriteArrayList<>();
    private Javalin ingest;
    private DemoJobs demo;

    @BeforeEach
    void startIngest() {
        ingest = Javalin.create(cfg -> cfg.routes.post("/api/v2/job_events/ingest/", ctx -> {
                    if (posts.incrementAndGet() == 1) {
                        ctx.status(503).result("{\"detail\":\"busy\"}");
                        return;
                    }
                    contentTypes.add(ctx.contentType());
                    authorizations.add(String.valueOf(ctx.header("Authorization")));
                    for (String line : ctx.body().split("\n")) {
                        if (!line.isBlank()) received.add(Json.MAPPER.readTree(line));
                    }
                    ctx.status(202).result("{\"accepted\":1}");
                }))
                .start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        if (demo != null) demo.close();
        ingest.stop();
    }

    @Test
    void a_recorded_run_arrives_complete_and_in_order_followed_by_its_eof() {
        List<DemoRecording.Run> shipped = DemoRecording.load();
        // the short run first, so the test waits about 2 s of replay rather than the site run's 20 s
        List<DemoRecording.Run> runs = List.of(shipped.get(1), shipped.get(0));
        JobRegistry jobs = (name, playbook) -> {
            createdJobs.add(name + " / " + playbook);
            return nextJobId.incrementAndGet();
        };
        URI url = URI.create("http://127.0.0.1:" + ingest.port() + "/api/v2/job_events/ingest/");
        demo = new DemoJobs(
                jobs,
                Clock.systemUTC(),
                Sleeper.REAL,
                new IngestPoster(url, HttpClient.newHttpClient(), Sleeper.REAL),
                runs);
        demo.start();
        demo.start(); // idempotent

        await().atMost(Duration.ofSeconds(30))
                .until(() -> received.stream()
                        .anyMatch(n -> "EOF".equals(n.path("event").asText())));

        List<JsonNode> first = eventsOf(101);
        int n = shipped.get(1).events().size();
        assertThat(first)
                .extracting(e -> e.get("counter").asInt())
                .containsExactlyElementsOf(IntStream.rangeClosed(1, n).boxed().toList());
        JsonNode eof = received.stream()
                .filter(e -> "EOF".equals(e.path("event").asText()))
                .findFirst()
                .orElseThrow();
        assertThat(eof.get("job_id").asLong()).isEqualTo(101);
        assertThat(eof.get("final_counter").asInt()).isEqualTo(n);
        assertThat(received.indexOf(eof)).isEqualTo(n); // the EOF came after every event
        assertThat(first).allSatisfy(e -> {
            assertThat(e.has("_fixture_run")).isFalse();
            assertThat(e.get("created").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00:00");
        });
        assertThat(createdJobs.get(0)).isEqualTo("demo: long_output / long_output.yml");
        assertThat(contentTypes).allMatch(t -> t.startsWith("application/x-ndjson"));
        // how events due together share a request depends on timing here; DemoReplayTest checks it on a manual clock
        // at most one request per event, plus the EOF, plus the first request answered 503 and retried
        assertThat(posts.get()).as("at least one request, plus the EOF").isBetween(2, n + 2);

        demo.close();
        demo.close(); // idempotent
    }

    @Test
    void the_public_constructor_streams_the_site_run_first_and_close_stops_it_promptly() {
        JobRegistry jobs = (name, playbook) -> {
            createdJobs.add(name + " / " + playbook);
            return nextJobId.incrementAndGet();
        };
        demo = new DemoJobs(
                URI.create("http://127.0.0.1:" + ingest.port() + "/api/v2/job_events/ingest/"),
                Optional.empty(),
                "Bearer demo-token",
                jobs,
                Clock.systemUTC());
        demo.start();

        await().atMost(Duration.ofSeconds(15)).until(() -> received.size() >= 3);
        assertThat(createdJobs.get(0)).isEqualTo("demo: site / site.yml");
        assertThat(received.get(0).get("counter").asInt()).isEqualTo(1);
        assertThat(authorizations).as("every post carries the demo's token").allMatch("Bearer demo-token"::equals);

        long before = System.nanoTime();
        demo.close();
        assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(5));
    }

    private List<JsonNode> eventsOf(long jobId) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode n : received) {
            if (n.path("job_id").asLong() == jobId
                    && !"EOF".equals(n.path("event").asText())) out.add(n);
        }
        return out;
    }
}
