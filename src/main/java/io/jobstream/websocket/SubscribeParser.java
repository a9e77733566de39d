package io.jobstream.websocket;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.event.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Reads what a browser sends on the websocket (AWX's protocol, reference §4.2), without deciding anything that
 * needs the connection: the JSON object, its {@code groups} and our {@code resume}. Pure and thread-safe, so it can
 * be fuzzed on its own; every input yields a result, never an exception.
 */
final class SubscribeParser {
    /** Metric reasons of {@link Read#rejected()}. */
    static final String MALFORMED = "malformed";

    static final String TOO_DEEP = "too_deep";

    private final ObjectReader reader;

    /** @param maxDepth deepest nesting accepted (AWX's messages need 3) */
    SubscribeParser(int maxDepth) {
        JsonFactory factory = Json.MAPPER
                .getFactory()
                .rebuild()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(maxDepth)
                        .build())
                .build();
        this.reader = Json.MAPPER.reader().with(factory);
    }

    /** A message: either the object, or why not (a {@code ws_messages_rejected_total} reason). */
    record Read(ObjectNode message, String rejected) {}

    Read read(String text) {
        try {
            JsonNode node = reader.readTree(text);
            if (node instanceof ObjectNode o) return new Read(o, null);
            return new Read(null, MALFORMED);
        } catch (StreamConstraintsException e) {
            return new Read(null, TOO_DEEP);
        } catch (JsonProcessingException | RuntimeException e) {
            return new Read(null, MALFORMED);
        }
    }

    /**
     * One group asked for: AWX's {@code {"name": [v1, v2]}} means groups {@code name-v1}, {@code name-v2}.
     *
     * @param value the JSON value as sent (a job id may be a number or a string)
     */
    record Group(String name, JsonNode value) {
        /** How Python's {@code '{}-{}'.format(name, value)} renders the common cases: strings bare, numbers as written. */
        String id() {
            return value.isTextual() || value.isIntegralNumber() ? value.asText() : value.toString();
        }

        String key() {
            return name + "-" + id();
        }

        boolean isJobEvents() {
            return EventMessages.JOB_EVENTS.equals(name);
        }

        /**
         * The job id of a {@code job_events} value, or empty when it is not one (so no job anyone may see): job ids
         * are 1..2147483647, as AWX's.
         */
        OptionalLong jobId() {
            long id;
            if (value.canConvertToExactIntegral() && value.canConvertToLong()) id = value.longValue();
            else if (value.isTextual() && value.asText().matches("[0-9]{1,18}")) id = Long.parseLong(value.asText());
            else return OptionalLong.empty();
            return id >= 1 && id <= Integer.MAX_VALUE ? OptionalLong.of(id) : OptionalLong.empty();
        }
    }

    /**
     * The distinct groups of a {@code groups} value, in the order sent; null when AWX refuses the whole message
     * (not an object, or a value that is not a list).
     */
    static List<Group> groups(JsonNode groups) {
        if (groups == null || !groups.isObject()) return null;
        Map<String, Group> distinct = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : groups.properties()) {
            if (!entry.getValue().isArray()) return null;
            for (JsonNode value : entry.getValue()) {
                Group g = new Group(entry.getKey(), value);
                distinct.putIfAbsent(g.key(), g);
            }
        }
        return new ArrayList<>(distinct.values());
    }

    /**
     * Our extension: {@code "resume": {"<job id>": <last counter seen>}}; entries for jobs not in {@code wanted}
     * (including ones the user may not watch, already refused) are ignored. Null when it is not such an object.
     */
    static Map<Long, Integer> resume(JsonNode resume, Set<String> wanted) {
        if (resume == null) return Map.of();
        if (!resume.isObject()) return null;
        Map<Long, Integer> counters = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : resume.properties()) {
            JsonNode last = entry.getValue();
            if (!entry.getKey().matches("[0-9]{1,18}")
                    || !last.canConvertToInt()
                    || !last.isIntegralNumber()
                    || last.intValue() < 0) {
                return null;
            }
            long job = Long.parseLong(entry.getKey());
            if (wanted.contains(EventMessages.jobEventsGroup(job))) counters.put(job, last.intValue());
        }
        return counters;
    }
}
