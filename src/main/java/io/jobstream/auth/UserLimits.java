package io.jobstream.auth;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;

/**
 * What one user may store and create in the user/team/token API (SPEC §8: one user cannot exhaust the node for
 * others). Strings have fixed limits (docs/OPERATIONS.md lists them); counts come from settings. A limit reached is a
 * 400 with the reason, counted in {@code user_limits_reached_total{what}}. Thread-safe.
 *
 * @param maxTokensPerUser  tokens (API and ingest) one user may hold
 * @param maxNewJobsPerUser jobs allocated by ingest-token creation that have no event yet, per user
 */
public record UserLimits(int maxTokensPerUser, int maxNewJobsPerUser, MeterRegistry registry) {
    /** Django's (and so AWX's) username limit. */
    public static final int MAX_USERNAME = 150;
    /** Long enough for any passphrase; PBKDF2 pre-hashes long keys, so the limit is about storage and parsing. */
    public static final int MAX_PASSWORD = 1024;

    public static final int MAX_TEAM_NAME = 512;
    public static final int MAX_DESCRIPTION = 512;

    void reached(String what) {
        registry.counter(Metrics.USER_LIMITS, "what", what).increment();
    }

    /** A text field of a JSON body: "" when absent; records an error when not a string or longer than {@code max}. */
    static String text(JsonNode body, String field, int max, Map<String, List<String>> errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return "";
        if (!v.isTextual()) {
            errors.put(field, List.of("Must be a string."));
            return "";
        }
        if (v.asText().length() > max) {
            errors.put(field, List.of("Ensure this field has no more than " + max + " characters."));
            return "";
        }
        return v.asText();
    }
}
