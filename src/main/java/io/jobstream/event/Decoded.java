package io.jobstream.event;

import java.util.List;

/** The outcome of decoding one line (NDJSON line, array element, or the single object) of an ingest body. */
public sealed interface Decoded {
    /** 1-based position of the line or array element in the request. */
    int line();

    /** A valid message; {@code repairs} lists what was changed to make it storable (e.g. NUL bytes removed). */
    record Ok(int line, JobMessage message, List<String> repairs) implements Decoded {}

    /** An invalid line, with the reason in words an emitter's author can act on. */
    record Rejected(int line, String reason) implements Decoded {}
}
