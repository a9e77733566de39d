package io.jobstream.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an untrusted ingest body into validated {@link JobMessage}s, one {@link Decoded} per line.
 *
 * <p>A body is one JSON object, a JSON array of objects, or NDJSON (one object per line). Each line (or array
 * element) is located first and then decoded on its own, so a malformed line is reported with its reason and never
 * costs its neighbours. Field rules follow AWX's receiver (reference §2.3): unknown top-level keys are dropped,
 * {@code created} may be naive (UTC) or missing (receive time, flagged), {@code play/role/task/playbook} are cut to
 * 1024 characters. Where AWX would crash or lose the event, the line is rejected with a reason instead; NUL
 * characters in {@code stdout} (which PostgreSQL cannot store) are removed and reported as a repair. The per-event
 * parse is {@link EventParser}; every decoded event then passes the {@link Redactor}.
 *
 * <p>Thread-safe and stateless apart from its limits; called on HTTP worker threads.
 */
public final class EventDecoder {
    /** How a line nested deeper than the limit is rejected (the start of its reason). */
    public static final String TOO_DEEP = "JSON nested deeper than";

    private final int maxEventBytes;
    private final int maxDepth;
    private final Clock clock;
    private final Redactor redactor;
    /** Parses one event: at most {@code maxDepth} levels. */
    private final JsonFactory events;
    /** Locates the elements of an array body: one level more, for the array itself. */
    private final JsonFactory arrays;

    public EventDecoder(int maxEventBytes, Clock clock) {
        this(maxEventBytes, Json.DEFAULT_EVENT_DEPTH, clock);
    }

    /**
     * @param maxDepth deepest nesting of one event (the event object is level 1). Jackson's skipping is iterative,
     *                 but each open level costs a parser context, so a body of a million {@code [} must stop early.
     */
    public EventDecoder(int maxEventBytes, int maxDepth, Clock clock) {
        this(maxEventBytes, maxDepth, clock, Redactor.none());
    }

    /**
     * @param redactor masks the operator's patterns and censors no_log results in every decoded event, before it
     *                 leaves the decoder (see {@link Redactor})
     */
    public EventDecoder(int maxEventBytes, int maxDepth, Clock clock, Redactor redactor) {
        if (maxEventBytes < 1024)
            throw new IllegalArgumentException("maxEventBytes must be >= 1024, was " + maxEventBytes);
        if (maxDepth < 4 || maxDepth > Json.MAX_NESTING_DEPTH) {
            throw new IllegalArgumentException(
                    "maxDepth must be from 4 to " + Json.MAX_NESTING_DEPTH + ", was " + maxDepth);
        }
        this.maxEventBytes = maxEventBytes;
        this.maxDepth = maxDepth;
        this.clock = clock;
        this.redactor = redactor;
        this.events = factory(maxDepth);
        this.arrays = factory(maxDepth + 1);
    }

    private static JsonFactory factory(int depth) {
        return Json.MAPPER
                .getFactory()
                .rebuild()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(depth)
                        .maxStringLength(Integer.MAX_VALUE) // sizes are limited per event instead
                        .build())
                .build();
    }

    /** Decodes one JSON document (an object, an array, or lines): {@link Framing#JSON}. */
    public List<Decoded> decodeBody(byte[] body) {
        return decodeBody(body, Framing.JSON);
    }

    /**
     * Decodes a whole request body framed as its content type says (see {@link Framing}). Never throws for bad input;
     * an empty body yields no lines.
     */
    public List<Decoded> decodeBody(byte[] body, Framing framing) {
        int first = firstNonBlank(body);
        if (first < 0) return List.of();
        if (body[first] != '[') return decodeLines(body);
        List<Decoded> array = new ArrayList<>();
        boolean whole = decodeArray(body, array);
        if (whole || framing == Framing.JSON) return array;
        // NDJSON: a body that is not one well-formed array is lines, and its bad first line costs only itself.
        // Undeclared: the same once the body spans lines (a one-line broken array keeps what came before the break).
        if (framing == Framing.NDJSON || hasLaterLine(body, first)) return decodeLines(body);
        return array;
    }

    public List<Decoded> decodeBody(String body) {
        return decodeBody(body.getBytes(StandardCharsets.UTF_8));
    }

    /** NDJSON: each line decoded as if on its own ({@link #decodeLinesOneByOne}), on one parser ({@link Lines}). */
    private List<Decoded> decodeLines(byte[] body) {
        try (Lines lines = new Lines(body)) {
            return eachLine(body, lines::decode);
        }
    }

    /** The lines of an NDJSON body, a parser each: what {@link Lines} must match (the tests compare the two). */
    List<Decoded> decodeLinesOneByOne(byte[] body) {
        return eachLine(body, (line, start, end) -> decodeOne(line, body, start, end - start));
    }

    /** One line of a body: its number (from 1) and its bytes {@code [start, end)}, without the line break. */
    private interface LineDecoder {
        Decoded decode(int line, int start, int end);
    }

    /** Splits an NDJSON body into lines (LF or CRLF; blank lines skipped) and decodes each. */
    private static List<Decoded> eachLine(byte[] body, LineDecoder decoder) {
        List<Decoded> out = new ArrayList<>();
        int line = 0;
        int start = 0;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                line++;
                int end = i;
                if (end > start && body[end - 1] == '\r') end--;
                if (!isBlank(body, start, end)) out.add(decoder.decode(line, start, end));
                start = i + 1;
            }
        }
        return out;
    }

    /**
     * The lines of one NDJSON body read by one parser, which reads the next line's object where the last one ended.
     *
     * <p>Design note. With a parser per line, about a fifth of the decoder's JFR samples sat on creating it (an IO
     * context, buffers and a symbol table: ~900 bytes allocated per event); JMH on a loaded machine could not yet
     * confirm the saving (docs/BENCHMARKS.md §1b). The shared parser is used only for a
     * line that holds exactly one well-formed, valid object and JSON whitespace: anything else (an error, an object
     * that ends on a later line, data after it, a line over the size limit) is decoded again on its own by
     * {@link #decodeOne}, and a new parser starts at the next line. So every line gets the verdict, reason and
     * repairs it would get alone, and a bad line still costs only itself (at most two parses of it: a body of hostile
     * lines costs up to twice what it did).
     */
    private final class Lines implements AutoCloseable {
        private final byte[] body;
        private JsonParser p; // null: none open, or it cannot be trusted to be at the start of the next line
        private int base; // the body offset where p started (its byte offsets are relative to it)

        Lines(byte[] body) {
            this.body = body;
        }

        Decoded decode(int line, int start, int end) {
            if (end - start > maxEventBytes) {
                drop();
                return decodeOne(line, body, start, end - start);
            }
            try {
                if (p == null) {
                    p = events.createParser(body, start, body.length - start);
                    base = start;
                }
                JsonToken t = p.nextToken();
                long at = base + p.currentTokenLocation().getByteOffset();
                if (t != JsonToken.START_OBJECT || at < start || at >= end) {
                    return alone(line, start, end);
                }
                EventFields fields = new EventParser(body, base, p).parse();
                if (!onlyWhitespace(base + (int) p.currentLocation().getByteOffset(), end)) {
                    return alone(line, start, end); // ends on a later line, or data after it on this one
                }
                return ok(line, fields);
            } catch (IOException | RuntimeException e) {
                // EventParser.Invalid, a syntax error or a constraint: the line alone says which, as before
                return alone(line, start, end);
            }
        }

        /** Whether {@code body[from, to)} is JSON whitespace only (what a parser would skip before its end). */
        private boolean onlyWhitespace(int from, int to) {
            if (from > to) return false;
            for (int i = from; i < to; i++) {
                byte b = body[i];
                if (b != ' ' && b != '\t' && b != '\r') return false;
            }
            return true;
        }

        private Decoded alone(int line, int start, int end) {
            drop();
            return decodeOne(line, body, start, end - start);
        }

        private void drop() {
            close();
            p = null;
        }

        @Override
        public void close() {
            if (p == null) return;
            try {
                p.close();
            } catch (IOException e) {
                // a parser over a byte array has nothing to release that could fail
            }
        }
    }

    /**
     * Locates each element with a cheap skip, then decodes it like an NDJSON line.
     *
     * @return whether the array was well-formed to its end with nothing after it
     */
    private boolean decodeArray(byte[] body, List<Decoded> out) {
        try (JsonParser p = arrays.createParser(body)) {
            p.nextToken(); // START_ARRAY
            int element = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                element++;
                int start = (int) p.currentTokenLocation().getByteOffset();
                p.skipChildren();
                int end = (int) p.currentLocation().getByteOffset();
                out.add(decodeOne(element, body, start, end - start));
            }
            if (p.nextToken() != null) {
                out.add(new Decoded.Rejected(element + 1, "malformed JSON: data after the array"));
                return false;
            }
            return true;
        } catch (StreamConstraintsException e) {
            out.add(new Decoded.Rejected(out.size() + 1, tooDeep() + "; this and later elements not read"));
        } catch (IOException e) {
            // Elements before the syntax error were decoded and stay valid; the rest cannot be located.
            out.add(new Decoded.Rejected(
                    out.size() + 1, "malformed JSON array (this and later elements not read): " + shortMessage(e)));
        }
        return false;
    }

    /** Whether anything but whitespace follows the line that holds {@code from}. */
    private static boolean hasLaterLine(byte[] body, int from) {
        for (int i = from; i < body.length; i++) {
            if (body[i] == '\n') return !isBlank(body, i + 1, body.length);
        }
        return false;
    }

    private Decoded decodeOne(int line, byte[] body, int offset, int length) {
        if (length > maxEventBytes) {
            return new Decoded.Rejected(
                    line,
                    "event is " + length + " bytes, over the limit of " + maxEventBytes
                            + " bytes (ingest.max-event-size)");
        }
        try (JsonParser p = events.createParser(body, offset, length)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                return new Decoded.Rejected(line, "expected a JSON object, got " + EventParser.kind(t));
            }
            EventFields fields = new EventParser(body, offset, p).parse();
            if (p.nextToken() != null) return new Decoded.Rejected(line, "malformed JSON: data after the object");
            return ok(line, fields);
        } catch (EventParser.Invalid e) {
            // a reason may quote the payload (a bad timestamp, say), and it goes back to the emitter
            return new Decoded.Rejected(line, redactor.redact(e.getMessage()));
        } catch (StreamConstraintsException e) {
            return new Decoded.Rejected(line, tooDeep());
        } catch (IOException e) {
            return new Decoded.Rejected(line, "malformed JSON: " + shortMessage(e));
        }
    }

    /** A well-formed line's message: received now, repaired where AWX would, redacted. */
    private Decoded ok(int line, EventFields fields) {
        List<String> repairs = new ArrayList<>(0);
        Instant received = clock.instant().truncatedTo(ChronoUnit.MICROS);
        JobMessage message = fields.toMessage(received, repairs);
        if (message instanceof JobEvent event) message = redactor.apply(event, fields.noLog);
        return new Decoded.Ok(line, message, repairs);
    }

    private String tooDeep() {
        return TOO_DEEP + " " + maxDepth + " levels (ingest.max-json-depth)";
    }

    private static String shortMessage(IOException e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (m == null) return e.getClass().getSimpleName();
        if (e instanceof JsonProcessingException j && j.getLocation() != null) {
            m += " (column " + j.getLocation().getColumnNr() + ")";
        }
        m = m.replace('\n', ' ');
        return m.length() > 200 ? m.substring(0, 200) + "..." : m;
    }

    private static int firstNonBlank(byte[] body) {
        for (int i = 0; i < body.length; i++) if (!Character.isWhitespace(body[i])) return i;
        return -1;
    }

    private static boolean isBlank(byte[] b, int start, int end) {
        for (int i = start; i < end; i++) if (!Character.isWhitespace(b[i])) return false;
        return true;
    }
}
