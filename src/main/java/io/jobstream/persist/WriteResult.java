package io.jobstream.persist;

import io.jobstream.event.CommittedBatch;
import java.util.List;

/**
 * The fate of every message of a batch (parallel to the input list) and what was committed.
 * A {@code null} entry in {@code parkReasons} means the message was not parked.
 */
public record WriteResult(List<Outcome> outcomes, List<String> parkReasons, CommittedBatch committed) {
    public enum Outcome {
        STORED,
        DUPLICATE,
        PARKED
    }

    public WriteResult {
        if (outcomes.size() != parkReasons.size()) throw new IllegalArgumentException("outcomes and reasons differ");
    }
}
