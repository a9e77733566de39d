package io.jobstream.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Turns an untrusted ingest body into validated {@link JobMessage}s, one {@link Decoded} per line.
 *
 * <p>A body is one JSON object, a JSON array of objects, or NDJSON (one object per line). Each line is decoded on
 * its own, so a malformed line is reported with its reason and never costs its neighbours. Field rules follow
 * AWX's receiver (reference §2.3): unknown top-level keys are dropped, {@code created} may be naive (UTC) or
 * missing (receive time, flagged), {@code play/role/task/playbook} are cut to 1024 characters. Where AWX would
 * crash or lose the event, this class rejects it with a reason instead; NUL bytes in {@code stdout} (which
 * PostgreSQL cannot store) are removed and reported as a repair.
 *
 * <p>Thread-safe and stateless apart from its limits; called on HTTP worker threads.
 */
public final class EventDecoder {
    /** AWX truncates these {@code event_data} strings to 1023 characters plus an ellipsis. */
    static final int MAX_NAME = 1024;
    static final int MAX_UUID = 1024;
    static final int MAX_EVENT_NAME = 100;
    private static final Instant MIN_CREATED = Instant.parse("1970-01-01T00:00:00Z");
    private static final Instant MAX_CREATED = Instant.parse("9999-12-31T23:59:59.999999Z");
    private static final List<String> OTHER_JOB_KEYS =
            List.of("ad_hoc_command_id", "project_update_id", "inventory_update_id", "system_job_id");

    /** Reads one array element; the trailing-token check is for whole documents, not elements. */
    private static final ObjectReader ELEMENT_READER =
            Json.MAPPER.readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final int maxEventBytes;
    private final Clock clock;

    public EventDecoder(int maxEventBytes, Clock clock) {
        if (maxEventBytes < 1024) throw new IllegalArgumentException("maxEventBytes must be >= 1024, was " + maxEventBytes);
        this.maxEventBytes = maxEventBytes;
        this.clock = clock;
    }

    /** Decodes a whole request body. Never throws for bad input; an empty body yields no lines. */
    public List<Decoded> decodeBody(byte[] body) {
        int first = firstNonBlank(body);
        if (first < 0) return List.of();
        if (body[first] == '[') return decodeArray(body);
        return decodeLines(body);
    }

    private List<Decoded> decodeLines(byte[] body) {
        List<Decoded> out = new ArrayList<>();
        int line = 0;
        int start = 0;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                line++;
                int end = i;
                if (end > start && body[end - 1] == '\r') end--;
                if (!isBlank(body, start, end)) out.add(decodeLine(line, body, start, end - start));
                start = i + 1;
            }
        }
        return out;
    }

    private Decoded decodeLine(int line, byte[] body, int offset, int length) {
        if (length > maxEventBytes) return tooLarge(line, length);
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(body, offset, length);
        } catch (IOException e) {
            return new Decoded.Rejected(line, "malformed JSON: " + shortMessage(e));
        }
        return decodeNode(line, node);
    }

    private List<Decoded> decodeArray(byte[] body) {
        List<Decoded> out = new ArrayList<>();
        try (JsonParser p = Json.MAPPER.createParser(body)) {
            p.nextToken(); // START_ARRAY
            int line = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (p.currentToken() == null) {
                    out.add(new Decoded.Rejected(line + 1, "malformed JSON array: unexpected end of input"));
                    return out;
                }
                line++;
                long start = p.currentTokenLocation().getByteOffset();
                JsonNode node = ELEMENT_READER.readValue(p);
                long size = p.currentLocation().getByteOffset() - start;
                out.add(size > maxEventBytes ? tooLarge(line, size) : decodeNode(line, node));
            }
            if (p.nextToken() != null) out.add(new Decoded.Rejected(line + 1, "malformed JSON: data after the array"));
        } catch (IOException e) {
            // Elements before the syntax error were decoded and stay valid; the rest cannot be located.
            out.add(new Decoded.Rejected(out.size() + 1, "malformed JSON array (this and later elements not read): "
                    + shortMessage(e)));
        }
        return out;
    }

    private Decoded tooLarge(int line, long size) {
        return new Decoded.Rejected(line, "event is " + size + " bytes, over the limit of " + maxEventBytes
                + " bytes (ingest.max-event-size)");
    }

    private Decoded decodeNode(int line, JsonNode node) {
        if (!(node instanceof ObjectNode o)) {
            return new Decoded.Rejected(line, "expected a JSON object, got " + kind(node));
        }
        try {
            List<String> repairs = new ArrayList<>(0);
            return new Decoded.Ok(line, toMessage(o, repairs), repairs);
        } catch (Invalid e) {
            return new Decoded.Rejected(line, e.getMessage());
        }
    }

    private JobMessage toMessage(ObjectNode o, List<String> repairs) {
        long jobId = jobId(o);
        String event = requiredString(o, "event", MAX_EVENT_NAME);
        if (event.equals("EOF")) return new JobEof(jobId, intField(o, "final_counter", 0, true));
        int counter = intField(o, "counter", 1, true);
        Instant received = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Instant created = created(o);
        ObjectNode data = eventData(o);
        String stdout = optionalString(o, "stdout", Integer.MAX_VALUE);
        if (stdout.indexOf('\0') >= 0) {
            String cleaned = stdout.replace("\0", "");
            repairs.add("stdout: removed " + (stdout.length() - cleaned.length()) + " NUL character(s)");
            stdout = cleaned;
        }
        int startLine = intField(o, "start_line", 0, false);
        int endLine = intField(o, "end_line", 0, false);
        if (endLine < startLine) throw new Invalid("end_line (" + endLine + ") is before start_line (" + startLine + ")");
        String hostName = o.has("host_name") && !o.get("host_name").isNull()
                ? optionalString(o, "host_name", MAX_NAME) : dataString(data, "host").strip();
        return new JobEvent(jobId, counter,
                optionalString(o, "uuid", MAX_UUID),
                optionalString(o, "parent_uuid", MAX_UUID),
                event,
                data.toString(),
                stdout, startLine, endLine,
                intField(o, "verbosity", 0, false),
                hostName,
                name(data, "playbook"), name(data, "play"), name(data, "role"), name(data, "task"),
                failed(event, data), changed(event, data),
                created == null ? received : created, created == null, received);
    }

    private static long jobId(ObjectNode o) {
        JsonNode id = o.get("job_id");
        if (id == null || id.isNull()) {
            for (String key : OTHER_JOB_KEYS) {
                if (o.has(key)) throw new Invalid("unsupported job key '" + key + "': only job events (job_id) are accepted");
            }
            throw new Invalid("job_id: missing");
        }
        if (!id.canConvertToLong() || !id.isIntegralNumber() || id.asLong() < 1 || id.asLong() > Integer.MAX_VALUE) {
            throw new Invalid("job_id: expected an integer from 1 to " + Integer.MAX_VALUE + ", got " + describe(id));
        }
        return id.asLong();
    }

    private Instant created(ObjectNode o) {
        JsonNode c = o.get("created");
        if (c == null || c.isNull()) return null;
        if (!c.isTextual()) throw new Invalid("created: expected an ISO-8601 string, got " + describe(c));
        Instant t;
        try {
            t = Timestamps.parse(c.asText());
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new Invalid("created: not an ISO-8601 timestamp: " + clip(c.asText()));
        }
        if (t.isBefore(MIN_CREATED) || t.isAfter(MAX_CREATED)) {
            throw new Invalid("created: out of range (years 1970 to 9999): " + clip(c.asText()));
        }
        return t;
    }

    private static ObjectNode eventData(ObjectNode o) {
        JsonNode d = o.get("event_data");
        if (d == null || d.isNull()) return Json.MAPPER.createObjectNode();
        if (d instanceof ObjectNode data) return data;
        throw new Invalid("event_data: expected an object, got " + kind(d));
    }

    private static boolean failed(String event, ObjectNode data) {
        if (event.equals("playbook_on_stats")) return sum(data, "failures") + sum(data, "dark") > 0;
        return EventTypes.isFailure(event) && !truthy(data.get("ignore_errors"));
    }

    private static boolean changed(String event, ObjectNode data) {
        if (event.equals("playbook_on_stats")) return sum(data, "changed") > 0;
        JsonNode res = data.get("res");
        return res != null && res.isObject() && truthy(res.get("changed"));
    }

    private static long sum(ObjectNode data, String field) {
        JsonNode perHost = data.get(field);
        long total = 0;
        if (perHost != null && perHost.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = perHost.fields(); it.hasNext(); ) {
                total += it.next().getValue().asLong(0);
            }
        }
        return total;
    }

    /** Python truthiness of a JSON value, as AWX evaluates {@code res.changed} and {@code ignore_errors}. */
    private static boolean truthy(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) return false;
        if (v.isBoolean()) return v.booleanValue();
        if (v.isNumber()) return v.doubleValue() != 0;
        if (v.isTextual()) return !v.asText().isEmpty();
        return v.size() > 0;
    }

    private static String name(ObjectNode data, String field) {
        String s = dataString(data, field).strip();
        return s.length() > MAX_NAME ? s.substring(0, MAX_NAME - 1) + "\u2026" : s;
    }

    private static String dataString(ObjectNode data, String field) {
        JsonNode v = data.get(field);
        return v != null && v.isTextual() ? v.asText() : "";
    }

    private static String requiredString(ObjectNode o, String field, int maxLength) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) throw new Invalid(field + ": missing");
        String s = checkedString(field, v, maxLength);
        if (s.isEmpty()) throw new Invalid(field + ": must not be empty");
        return s;
    }

    private static String optionalString(ObjectNode o, String field, int maxLength) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? "" : checkedString(field, v, maxLength);
    }

    private static String checkedString(String field, JsonNode v, int maxLength) {
        if (!v.isTextual()) throw new Invalid(field + ": expected a string, got " + describe(v));
        String s = v.asText();
        if (s.length() > maxLength) throw new Invalid(field + ": longer than " + maxLength + " characters");
        if (!"stdout".equals(field) && s.indexOf('\0') >= 0) throw new Invalid(field + ": contains a NUL character");
        return s;
    }

    private static int intField(ObjectNode o, String field, int min, boolean required) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            if (required) throw new Invalid(field + ": missing");
            return min;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min) {
            throw new Invalid(field + ": expected an integer from " + min + " to " + Integer.MAX_VALUE + ", got " + describe(v));
        }
        return v.asInt();
    }

    private static String describe(JsonNode v) {
        return v.isTextual() ? "string " + clip('"' + v.asText() + '"') : kind(v) + " " + clip(v.toString());
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase();
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static String shortMessage(IOException e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (e instanceof JsonProcessingException j && j.getLocation() != null) {
            m += " (column " + j.getLocation().getColumnNr() + ")";
        }
        if (m == null) return e.getClass().getSimpleName();
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

    /** Internal signal for a field error; becomes a {@link Decoded.Rejected}. */
    private static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /** For tests and tools: the UTF-8 bytes of a string body. */
    public List<Decoded> decodeBody(String body) {
        return decodeBody(body.getBytes(StandardCharsets.UTF_8));
    }
}
