package io.jobstream.ingest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The ingest answer: how many events were stored, how many were already stored (duplicates), and each line that
 * was rejected or repaired, with the reason. {@code detail} explains a request-level refusal (503, 413, 400).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record IngestReply(
        int accepted,
        int duplicates,
        List<Problem> rejected,
        List<Problem> repaired,
        String detail,
        @JsonProperty("retry_after_seconds") Integer retryAfterSeconds) {

    public record Problem(int line, String reason) {}
}
