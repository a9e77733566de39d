package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A clean stop in the middle of a stream, then a start on the same data directory: nothing lost, nothing twice. */
class RestartIT {
    private static final long JOB = 7;
    private static final int EVENTS = 20_000;
    private static final int BATCH = 200;

    @TempDir
    Path dataDir;

    @Test
    void a_clean_restart_mid_stream_loses_nothing_and_duplicates_nothing() throws Exception {
        AtomicReference<RunningServer> node = new AtomicReference<>(RunningServer.start(dataDir));
        AtomicInteger posted = new AtomicInteger();
        AtomicInteger retries = new AtomicInteger();
        CompletableFuture<Void> emitter = CompletableFuture.runAsync(() -> emit(node, posted, retries));

        // poll often so the stop lands early in the stream, leaving most of it for the restarted node
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> posted.get() >= EVENTS / 10);
        node.get().close(); // clean stop while the emitter keeps posting
        int postedAtStop = posted.get();
        node.set(RunningServer.start(dataDir));
        emitter.get(3, TimeUnit.MINUTES);

        assertThat(postedAtStop).isLessThan(EVENTS);
        JsonNode job = Http.getJson(node.get().uri("/api/v2/jobs/" + JOB + "/"));
        assertThat(job.path("stored_events").asInt()).isEqualTo(EVENTS);
        assertThat(job.path("event_processing_finished").asBoolean()).isTrue();
        assertThat(Http.get(node.get().uri("/api/v2/jobs/" + JOB + "/stdout/?format=txt"))
                        .body())
                .isEqualTo(Events.expectedText(JOB, EVENTS));
        node.get().close();
    }

    /** An emitter that retries each batch until it gets 200, as the callback plugin does. */
    private static void emit(AtomicReference<RunningServer> node, AtomicInteger posted, AtomicInteger retries) {
        for (int from = 1; from <= EVENTS + 1; from += BATCH) {
            StringBuilder body = new StringBuilder();
            if (from > EVENTS) body.append(Events.eof(JOB, EVENTS));
            for (int c = from; c < from + BATCH && c <= EVENTS; c++)
                body.append(Events.event(JOB, c)).append('\n');
            while (!postOnce(node.get(), body.toString())) {
                retries.incrementAndGet();
                await().pollDelay(Duration.ofMillis(50)).until(() -> true);
            }
            posted.addAndGet(BATCH);
        }
    }

    private static boolean postOnce(RunningServer server, String body) {
        try {
            HttpResponse<String> r = Http.post(server.uri("/api/v2/job_events/ingest/"), body);
            return r.statusCode() == 200;
        } catch (RuntimeException e) {
            return false; // the node is stopping or down (connection refused, no port yet): retry
        }
    }
}
