package io.jobstream.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.javalin.Javalin;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Principal;
import io.jobstream.auth.Requests;
import io.jobstream.config.Config.IngestConfig;
import io.jobstream.event.EventDecoder;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ingest endpoint over real HTTP with no receiver behind its queue, so nothing ever commits: the cases where an
 * emitter must be told to retry (503 + Retry-After) or to split its requests (413).
 */
class IngestEndpointIT {
    private final MemoryEventQueue queue = new MemoryEventQueue(10, 1 << 20);
    private Javalin http;
    private URI ingest;

    @BeforeEach
    void start() {
        IngestEndpoint endpoint = new IngestEndpoint(
                new EventDecoder(1 << 20, Clock.systemUTC()),
                queue,
                new IngestConfig(1 << 20, 16 << 20, Duration.ofMillis(300)),
                new SimpleMeterRegistry(),
                new JobAccess(null, null)); // a launched job's own token writes its job without asking a store
        Principal emitter = new Principal(0, "", false, Principal.Via.INGEST_TOKEN, 1L, 1L);
        http = Javalin.create(cfg -> {
                    cfg.routes.before(ctx -> Requests.attach(ctx, emitter));
                    endpoint.register(cfg.routes);
                })
                .start("127.0.0.1", 0);
        ingest = URI.create("http://127.0.0.1:" + http.port() + IngestEndpoint.PATH);
    }

    @AfterEach
    void stop() {
        http.stop();
    }

    @Test
    void events_not_committed_in_time_get_503_with_retry_after_and_stay_queued() {
        HttpResponse<String> r = Http.post(ingest, events(1, 6));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(Http.json(r.body()).path("detail").asText())
                .contains("not committed within")
                .contains("retrying is safe");
        assertThat(queue.depth()).isEqualTo(6);
    }

    @Test
    void a_full_queue_refuses_the_whole_request_with_503() {
        Http.post(ingest, events(1, 6));
        HttpResponse<String> r = Http.post(ingest, events(7, 12));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(Http.json(r.body()).path("detail").asText()).startsWith("queue full (10 events");
        assertThat(queue.depth()).isEqualTo(6);
    }

    @Test
    void a_request_bigger_than_the_queue_gets_413_instead_of_endless_503s() {
        HttpResponse<String> r = Http.post(ingest, events(1, 11));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(Http.json(r.body()).path("detail").asText())
                .isEqualTo("request has 11 events, more than the queue holds (10); send smaller requests");
        assertThat(queue.depth()).isZero();
    }

    private static String events(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(c -> Events.event(1, c)).collect(Collectors.joining("\n"));
    }
}
