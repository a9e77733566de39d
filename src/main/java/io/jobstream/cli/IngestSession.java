package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * How a client tool writes events into one job through the node's ingest endpoint ({@code replay}, {@code import}).
 * {@link #open} asks the node for an ingest token for the job: for a fresh job the node allocates (owned by the
 * tool's user, never a guessable id), or for an existing job the user may write. The sends use that token, and
 * {@link #close} deletes it. {@link #asCaller} sends with the tool's own credentials instead (admins writing to an id
 * of their choosing). Ingest is idempotent on (job, counter), so a send that meets a full queue (503) is simply
 * repeated. One thread; the caller closes it.
 */
final class IngestSession implements AutoCloseable {
    private static final int ATTEMPTS = 10;

    private final NodeClient node;
    private final long job;
    /** "Bearer …" of the session's token, or null for the caller's credentials. */
    private final String authorization;

    private final long tokenId;

    private IngestSession(NodeClient node, long job, String authorization, long tokenId) {
        this.node = node;
        this.job = job;
        this.authorization = authorization;
        this.tokenId = tokenId;
    }

    /** A token for job {@code job}, or for a fresh job when it is null; refused by the node when not allowed. */
    static IngestSession open(NodeClient node, Long job, String description) throws IOException, InterruptedException {
        ObjectNode body = Json.MAPPER.createObjectNode().put("kind", "ingest").put("description", description);
        if (job != null) body.put("job", job);
        HttpResponse<String> r = node.http()
                .send(
                        node.request("/api/v2/tokens/")
                                .timeout(Duration.ofSeconds(30))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IOException(
                    "POST " + node.resolve("/api/v2/tokens/") + " answered " + r.statusCode() + ": " + r.body());
        }
        JsonNode token = Json.MAPPER.readTree(r.body());
        return new IngestSession(
                node,
                token.path("job").asLong(),
                "Bearer " + token.path("token").asText(),
                token.path("id").asLong());
    }

    /** Sends with the tool's own credentials into {@code job}; nothing to delete at the end. */
    static IngestSession asCaller(NodeClient node, long job) {
        return new IngestSession(node, job, null, -1);
    }

    long job() {
        return job;
    }

    /**
     * Posts NDJSON lines; returns the node's answer ({@code accepted}, {@code duplicates}, {@code rejected}).
     * Retries while the node answers 503; any other answer but 200 is an {@link IOException}.
     */
    JsonNode send(CharSequence ndjson) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            HttpRequest.Builder request = node.request("/api/v2/job_events/ingest/");
            if (authorization != null) request.setHeader("Authorization", authorization);
            HttpResponse<String> r = node.http()
                    .send(
                            request.timeout(Duration.ofSeconds(60))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofString(ndjson.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) return Json.MAPPER.readTree(r.body());
            if (r.statusCode() != 503 || attempt == ATTEMPTS) {
                throw new IOException("ingest answered " + r.statusCode() + ": " + r.body());
            }
            Thread.sleep(500L * attempt);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (authorization == null) return;
        node.http()
                .send(
                        node.request("/api/v2/tokens/" + tokenId + "/")
                                .timeout(Duration.ofSeconds(30))
                                .DELETE()
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
    }
}
