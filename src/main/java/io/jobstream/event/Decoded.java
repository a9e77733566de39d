package io.jobstream.event;

import java.util.List;

/** The outcome of decoding one line (NDJSON line, array element, or the single object) of an ingest body. */
public sealed interface Decoded {
    /** 1-based position of the line or array element in the request. */
    int line();

    /** A valid message; {@code repairs} lists what was changed to make it storable (e.g. NUL bytes removed). */
    record Ok(int line, JobMessage message, List<String> repairs) implements Decoded {}

    /**
     * An invalid line, with the reason in words an emitter's author can act on. The reason may quote a little of
     * the line (a bad value, clipped), so it goes back to the emitter only; logs and metrics use {@link #tag()}.
     */
    record Rejected(int line, String reason) implements Decoded {
        /** A small, fixed set of values naming the kind of rejection: metric tags and log lines, never payload. */
        public String tag() {
            if (reason.startsWith(EventDecoder.TOO_DEEP)) return "too_deep";
            if (reason.startsWith("malformed JSON")) return "malformed_json";
            if (reason.startsWith("event is ")) return "too_large";
            if (reason.startsWith("unsupported job key") || reason.startsWith("job_id")) return "job";
            if (reason.startsWith("expected a JSON object")) return "not_an_object";
            return "invalid_field";
        }
    }
}
