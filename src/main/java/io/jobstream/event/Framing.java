package io.jobstream.event;

import java.util.Locale;
import java.util.Set;

/**
 * How an ingest body is split into events, from the request's {@code Content-Type}.
 *
 * <p>{@link #NDJSON}: every line is one event, judged on its own, whatever its first character (a line that is an
 * array or broken JSON is that line's rejection, never its neighbours'); the one exception is a body that is exactly
 * one well-formed JSON array, which cannot be mistaken and is read as that array (clients that label every body
 * NDJSON send arrays too). {@link #JSON}: one JSON document, an object or an array of objects (NDJSON sent as
 * {@code application/json} still works, as it always did). {@link #UNDECLARED} (no type, or curl's default form type):
 * an array when the body is one well-formed array, otherwise by line once it spans lines, so a stray {@code [} on the
 * first line cannot take the good lines after it down with it.
 */
public enum Framing {
    NDJSON,
    JSON,
    UNDECLARED;

    private static final Set<String> LINE_TYPES = Set.of(
            "application/x-ndjson",
            "application/ndjson",
            "application/jsonl",
            "application/x-jsonl",
            "application/jsonlines",
            "application/x-jsonlines");

    /** @param contentType the header as sent, parameters and all; null when absent */
    public static Framing of(String contentType) {
        if (contentType == null) return UNDECLARED;
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
                .strip()
                .toLowerCase(Locale.ROOT);
        if (LINE_TYPES.contains(type)) return NDJSON;
        if (type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"))) return JSON;
        return UNDECLARED;
    }
}
