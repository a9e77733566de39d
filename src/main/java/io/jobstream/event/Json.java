package io.jobstream.event;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The one Jackson configuration every stage uses (thread-safe, shared). */
public final class Json {
    /**
     * Deeper JSON than this is rejected before it can exhaust a stack. It is the highest {@code ingest.max-json-depth}
     * allows, so that stored event_data is always readable back (NaN repair, host status counts); each untrusted
     * surface applies its own, lower limit (ingest 200 by default, websocket messages 16).
     */
    public static final int MAX_NESTING_DEPTH = 1000;

    /** {@code ingest.max-json-depth} by default. */
    public static final int DEFAULT_EVENT_DEPTH = 200;

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // Python's json.dumps writes NaN/Infinity
            .build();

    static {
        MAPPER.getFactory()
                .setStreamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING_DEPTH)
                        .maxStringLength(Integer.MAX_VALUE) // sizes are limited per event by the decoder instead
                        .build());
    }

    private Json() {}
}
