package io.jobstream.demo;

import io.jobstream.time.Sleeper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts NDJSON batches to {@code POST /api/v2/job_events/ingest/} the way a well-behaved emitter does: a 2xx
 * means durable, so anything else that may pass (503 back-pressure, 429, 5xx, a refused or dropped connection)
 * is retried with capped exponential backoff, without end: a replayed event is never dropped, and ingest is
 * idempotent, so a retry after a lost reply does no harm. A 4xx other than 429 would fail the same way again,
 * so it is logged and the batch given up.
 *
 * <p>Called from one thread at a time (DemoJobs's); the {@link HttpClient} is shared and thread-safe.
 */
final class IngestPoster implements DemoReplay.Sink {
    private static final Logger LOG = LoggerFactory.getLogger(IngestPoster.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    private final URI ingestUrl;
    private final HttpClient http;
    private final Sleeper sleeper;
    private final String authorization;

    IngestPoster(URI ingestUrl, HttpClient http, Sleeper sleeper) {
        this(ingestUrl, http, sleeper, null);
    }

    /** @param authorization the {@code Authorization} header to send, or null */
    IngestPoster(URI ingestUrl, HttpClient http, Sleeper sleeper, String authorization) {
        this.ingestUrl = ingestUrl;
        this.http = http;
        this.sleeper = sleeper;
        this.authorization = authorization;
    }

    @Override
    public void post(String ndjson) throws InterruptedException {
        HttpRequest.Builder builder = HttpRequest.newBuilder(ingestUrl)
                .timeout(REQUEST_TIMEOUT)
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(ndjson, StandardCharsets.UTF_8));
        if (authorization != null) builder.header("Authorization", authorization);
        HttpRequest request = builder.build();
        Duration backoff = FIRST_BACKOFF;
        for (int attempt = 1; ; attempt++) {
            String failure;
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                if (status / 100 == 2) return;
                if (status / 100 == 4 && status != 429) {
                    LOG.warn("demo ingest rejected a batch with HTTP {}: {}", status, abbreviate(response.body()));
                    return;
                }
                failure = "HTTP " + status;
            } catch (IOException e) {
                failure = e.toString();
            }
            if (attempt == 1 || attempt % 10 == 0) {
                LOG.info(
                        "demo ingest to {} failed ({}), attempt {}; retrying in {} ms",
                        ingestUrl,
                        failure,
                        attempt,
                        backoff.toMillis());
            }
            sleeper.sleep(backoff);
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private static String abbreviate(String body) {
        return body.length() <= 300 ? body : body.substring(0, 300) + "...";
    }
}
