package io.jobstream.api;

import java.util.List;

/** One page of rows; {@code count} is the total matching rows, or null when the caller asked for no COUNT. */
public record Page<T>(List<T> rows, Long count) {
    public Page {
        rows = List.copyOf(rows);
    }
}
