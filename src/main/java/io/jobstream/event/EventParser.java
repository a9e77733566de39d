package io.jobstream.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * Parses one event object in a single streaming pass, without building a tree.
 *
 * <p>Design note. {@code event_data} is most of an event's bytes (module results run to hundreds of kilobytes) and
 * jobstream only stores and forwards it. So its bytes are kept exactly as the emitter sent them (a slice of the
 * request, valid JSON by construction since the parser walked it) and only the few keys AWX derives columns from
 * are read on the way through: {@code host, playbook, play, role, task, ignore_errors, res.changed, res._ansible_no_log} and the
 * per-host sums of {@code playbook_on_stats}. Scalars are type-checked as they stream by; the first bad field
 * throws {@link Invalid} with a reason naming it. One instance per call; not thread-safe.
 */
final class EventParser {
    static final List<String> OTHER_JOB_KEYS =
            List.of("ad_hoc_command_id", "project_update_id", "inventory_update_id", "system_job_id");
    private static final Instant MIN_CREATED = Instant.parse("1970-01-01T00:00:00Z");
    private static final Instant MAX_CREATED = Instant.parse("9999-12-31T23:59:59.999999Z");

    private final byte[] bytes;
    private final int offset;
    private final JsonParser p;
    private final EventFields f = new EventFields();

    EventParser(byte[] bytes, int offset, JsonParser parser) {
        this.bytes = bytes;
        this.offset = offset;
        this.p = parser;
    }

    /** Reads the object whose START_OBJECT is the parser's current token, up to its END_OBJECT. */
    EventFields parse() throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if (t != JsonToken.VALUE_NULL) field(name, t); // null means absent, as in AWX
        }
        return f;
    }

    private void field(String name, JsonToken t) throws IOException {
        switch (name) {
            case "job_id" -> f.jobId = longValue(name, t);
            case "counter" -> f.counter = intValue(name, t);
            case "final_counter" -> f.finalCounter = intValue(name, t);
            case "start_line" -> f.startLine = intValue(name, t);
            case "end_line" -> f.endLine = intValue(name, t);
            case "verbosity" -> f.verbosity = intValue(name, t);
            case "event" -> f.event = string(name, t);
            case "uuid" -> f.uuid = string(name, t);
            case "parent_uuid" -> f.parentUuid = string(name, t);
            case "host_name" -> f.hostName = string(name, t);
            case "stdout" -> f.stdout = string(name, t);
            case "created" -> f.created = created(t);
            case "event_data" -> eventData(t);
            default -> {
                if (OTHER_JOB_KEYS.contains(name)) f.otherJobKey = name;
                p.skipChildren(); // AWX drops unknown top-level keys (runner_ident, pid, …)
            }
        }
    }

    private void eventData(JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT) throw new Invalid("event_data: expected an object, got " + kind(t));
        // given twice, the last one wins (as in Python): nothing derived from an earlier one may survive it
        f.data.clear();
        f.statsSums.clear();
        f.ignoreErrors = false;
        f.resChanged = false;
        f.noLog = false;
        int start = (int) p.currentTokenLocation().getByteOffset();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            switch (name) {
                case "host", "playbook", "play", "role", "task" -> f.data.put(name, stringOrSkip(v));
                case "ignore_errors" -> f.ignoreErrors = truthy(v);
                case "res" -> f.resChanged = v == JsonToken.START_OBJECT ? resChanged() : skipped();
                case "changed", "dark", "failures" -> f.statsSums.put(name, sumPerHost(v));
                default -> p.skipChildren();
            }
        }
        int end = (int) p.currentLocation().getByteOffset();
        f.eventData = new String(bytes, offset + start, end - start, StandardCharsets.UTF_8);
    }

    /** The text of a string value; any other value (a container too) is skipped and reads as "". */
    private String stringOrSkip(JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_STRING) return p.getText();
        p.skipChildren();
        return "";
    }

    private boolean skipped() throws IOException {
        p.skipChildren();
        return false;
    }

    /** Within {@code res}: is {@code changed} truthy? Skips everything else. */
    private boolean resChanged() throws IOException {
        boolean changed = false;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken v = p.nextToken();
            if (name.equals("changed")) changed = truthy(v);
            else if (name.equals("_ansible_no_log")) f.noLog = truthy(v);
            else p.skipChildren();
        }
        return changed;
    }

    /** The sum of a {@code {host: count}} object (playbook_on_stats); anything else counts 0. */
    private long sumPerHost(JsonToken t) throws IOException {
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            return 0;
        }
        long sum = 0;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            JsonToken v = p.nextToken();
            if (v == JsonToken.VALUE_NUMBER_INT) sum += p.getLongValue();
            else p.skipChildren();
        }
        return sum;
    }

    /** Python truthiness, as AWX evaluates {@code res.changed} and {@code ignore_errors}; skips containers. */
    private boolean truthy(JsonToken v) throws IOException {
        return switch (v) {
            case VALUE_TRUE -> true;
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getDoubleValue() != 0;
            case VALUE_STRING -> !p.getText().isEmpty();
            case START_OBJECT, START_ARRAY -> {
                JsonToken first = p.nextToken();
                boolean nonEmpty = !first.isStructEnd();
                int depth = nonEmpty ? (first.isStructStart() ? 2 : 1) : 0;
                while (depth > 0) {
                    JsonToken x = p.nextToken();
                    if (x.isStructStart()) depth++;
                    else if (x.isStructEnd()) depth--;
                }
                yield nonEmpty;
            }
            default -> false;
        };
    }

    private Instant created(JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_STRING) throw new Invalid("created: expected an ISO-8601 string, got " + describe(t));
        String text = p.getText();
        Instant instant;
        try {
            instant = Timestamps.parse(text);
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new Invalid("created: not an ISO-8601 timestamp: " + clip(text));
        }
        if (instant.isBefore(MIN_CREATED) || instant.isAfter(MAX_CREATED)) {
            throw new Invalid("created: out of range (years 1970 to 9999): " + clip(text));
        }
        return instant;
    }

    private String string(String name, JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_STRING) throw new Invalid(name + ": expected a string, got " + describe(t));
        return p.getText();
    }

    private int intValue(String name, JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
            throw new Invalid(name + ": expected an integer from " + EventFields.minOf(name) + " to "
                    + Integer.MAX_VALUE + ", got " + describe(t));
        }
        int v = p.getIntValue();
        if (v < EventFields.minOf(name)) {
            throw new Invalid(name + ": expected an integer from " + EventFields.minOf(name) + " to "
                    + Integer.MAX_VALUE + ", got number " + v);
        }
        return v;
    }

    private long longValue(String name, JsonToken t) throws IOException {
        if (t != JsonToken.VALUE_NUMBER_INT
                || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || p.getLongValue() < 1
                || p.getLongValue() > Integer.MAX_VALUE) {
            throw new Invalid(name + ": expected an integer from 1 to " + Integer.MAX_VALUE + ", got " + describe(t));
        }
        return p.getLongValue();
    }

    private String describe(JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_STRING -> "string " + clip('"' + p.getText() + '"');
            case START_OBJECT, START_ARRAY -> kind(t);
            default -> kind(t) + " " + clip(p.getText());
        };
    }

    static String kind(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "object";
            case START_ARRAY -> "array";
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "boolean";
            default -> "null";
        };
    }

    static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** A field error; becomes a {@link Decoded.Rejected} with this message. */
    static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }
}
