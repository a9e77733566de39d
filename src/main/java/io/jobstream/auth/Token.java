package io.jobstream.auth;

import io.jobstream.event.CaptureLevel;
import java.time.Instant;

/**
 * A stored token (the secret itself is never stored, only its SHA-256).
 *
 * @param user   its user, or null for a node-issued ingest token
 * @param kind   {@code api} (acts as the user) or {@code ingest} (writes events only)
 * @param jobId  for an ingest token: its one job, or null for every job
 * @param capture for an ingest token: the level every event it writes is taken at; null = full
 */
public record Token(
        long id,
        User user,
        String kind,
        Long jobId,
        String description,
        Instant created,
        Instant expires,
        CaptureLevel capture) {
    public Token(long id, User user, String kind, Long jobId, String description, Instant created, Instant expires) {
        this(id, user, kind, jobId, description, created, expires, null);
    }

    public static final String API = "api";
    public static final String INGEST = "ingest";
}
