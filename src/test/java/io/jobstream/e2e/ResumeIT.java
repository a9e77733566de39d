package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.StreamClient;
import io.jobstream.testing.TestUsers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that drops its connection at random moments while a 100,000-event job streams as fast as the node takes
 * it, and reconnects each time with {@code "resume": {job: last counter seen}}: across all its connections it gets
 * every event of the job exactly once, in counter order, each the stored one.
 */
class ResumeIT {
    private static final long JOB = 601;
    private static final int EVENTS = Integer.getInteger("resume.events", 100_000);
    private static final int PER_POST = 500;
    /** Paced, so that the job streams for ~10 s whatever the machine: time for many reconnects mid-stream. */
    private static final int RATE = 10_000;

    @TempDir
    Path dataDir;

    @Test
    void reconnecting_with_resume_at_random_moments_yields_the_stored_stream_exactly() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir)) {
            AtomicReference<String> wrong = new AtomicReference<>();
            AtomicInteger checked = new AtomicInteger();
            CompletableFuture<Void> emitter = CompletableFuture.runAsync(() -> post(server));

            Random random = new Random(7);
            int last = 0;
            int connections = 0;
            while (last < EVENTS) {
                boolean batch = connections % 2 == 1; // every other connection takes batched frames
                int from = last;
                StreamClient client = StreamClient.connect(
                        server.websocketUri(), "csrftoken=r", true, last, frame -> check(frame, wrong, checked));
                client.send("{\"xrftoken\":\"r\",\"batch\":" + batch + ",\"groups\":{\"job_events\":[" + JOB
                        + "]},\"resume\":{\"" + JOB + "\":" + last + "}}");
                connections++;
                if (emitter.isDone()) {
                    await().atMost(Duration.ofSeconds(60))
                            .until(() -> client.last() == EVENTS || client.violation() != null);
                    assertThat(client.violation()).as("after counter %d", from).isNull();
                } else {
                    Thread.sleep(
                            50 + random.nextInt(1_000)); // the scenario: a connection lasts a random while, then drops
                }
                client.abort(); // no close handshake: as a dropped network
                assertThat(client.violation()).as("connection %d", connections).isNull();
                if (client.events() > 0) { // the reply comes before any event, and says where the replay starts
                    assertThat(client.others).anyMatch(f -> f.contains("\"resumed\":{\"" + JOB + "\":" + from + "}"));
                }
                last = client.last();
            }
            emitter.get(5, TimeUnit.MINUTES);

            assertThat(wrong.get()).isNull();
            assertThat(checked.get())
                    .as("events received over %d connections", connections)
                    .isEqualTo(EVENTS);
            assertThat(connections).isGreaterThan(3);
            System.out.printf("ResumeIT: %d events over %d connections%n", EVENTS, connections);
        }
    }

    /** The frame is the stored event of that counter: its job, uuid and output as the emitter sent them. */
    private static void check(String frame, AtomicReference<String> wrong, AtomicInteger checked) {
        int counter = StreamClient.counterOf(frame);
        boolean quiet = counter % 10 == 0;
        String stdout = quiet ? "" : Events.stdoutOf(JOB, counter).replace("\\u001b", "\\u001B"); // as Jackson escapes
        if (!frame.contains("\"job\":" + JOB + ",")
                || !frame.contains("\"uuid\":\"" + JOB + "-" + counter + "\"")
                || !frame.contains("\"stdout\":\"" + stdout + "\"")) {
            wrong.compareAndSet(null, frame);
        }
        checked.incrementAndGet();
    }

    private static void post(RunningServer server) {
        HttpClient http = HttpClient.newHttpClient();
        URI ingest = server.uri("/api/v2/job_events/ingest/");
        Semaphore inFlight = new Semaphore(4);
        List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (int from = 1; from <= EVENTS; from += PER_POST) {
                long wait = start + (long) (from - 1) * 1_000_000_000L / RATE - System.nanoTime();
                if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // pacing the emitter at RATE: the scenario
                StringBuilder body = new StringBuilder();
                for (int c = from; c < from + PER_POST; c++)
                    body.append(Events.event(JOB, c)).append('\n');
                inFlight.acquire();
                posts.add(http.sendAsync(
                                HttpRequest.newBuilder(ingest)
                                        .header("Authorization", TestUsers.ADMIN_AUTH)
                                        .POST(BodyPublishers.ofString(body.toString()))
                                        .build(),
                                BodyHandlers.ofString())
                        .whenComplete((r, e) -> inFlight.release()));
            }
            for (CompletableFuture<HttpResponse<String>> p : posts) {
                HttpResponse<String> r = p.get(2, TimeUnit.MINUTES);
                if (r.statusCode() != 200) throw new AssertionError(r.statusCode() + " " + r.body());
            }
            Http.post(ingest, Events.eof(JOB, EVENTS));
        } catch (InterruptedException
                | java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }
}
