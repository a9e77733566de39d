package io.jobstream.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields {@link EventParser} read from one event object, before the rules that need them all together
 * (required fields, line order, AWX's derived columns) turn them into a {@link JobMessage}.
 */
final class EventFields {
    /** AWX truncates these {@code event_data} strings to 1023 characters plus an ellipsis. */
    static final int MAX_NAME = 1024;

    static final int MAX_UUID = 1024;
    static final int MAX_EVENT_NAME = 100;

    Long jobId;
    Integer counter;
    Integer finalCounter;
    Integer startLine;
    Integer endLine;
    Integer verbosity;
    String event;
    String uuid;
    String parentUuid;
    String hostName;
    String stdout;
    Instant created;
    String eventData;
    String otherJobKey;
    boolean ignoreErrors;
    boolean resChanged;
    /** {@code event_data.res._ansible_no_log} is truthy: the result is censored ({@link Redactor}). */
    boolean noLog;

    final Map<String, String> data = new HashMap<>(8);
    final Map<String, Long> statsSums = new HashMap<>(4);

    static int minOf(String field) {
        return field.equals("counter") ? 1 : 0;
    }

    /** Applies the cross-field rules; {@code repairs} receives what was changed to make the event storable. */
    JobMessage toMessage(Instant received, List<String> repairs) {
        long job = jobId();
        String name = checked("event", require("event", event), MAX_EVENT_NAME);
        if (name.isEmpty()) throw new EventParser.Invalid("event: must not be empty");
        if (name.equals("EOF")) return new JobEof(job, require("final_counter", finalCounter));
        int c = require("counter", counter);
        String out = stdout == null ? "" : stdout;
        if (out.indexOf('\0') >= 0) {
            String cleaned = out.replace("\0", "");
            repairs.add("stdout: removed " + (out.length() - cleaned.length()) + " NUL character(s)");
            out = cleaned;
        }
        out = wellFormed("stdout", out, repairs);
        int start = startLine == null ? 0 : startLine;
        int end = endLine == null ? 0 : endLine;
        if (end < start) throw new EventParser.Invalid("end_line (" + end + ") is before start_line (" + start + ")");
        String host = hostName != null
                ? checked("host_name", hostName, MAX_NAME)
                : data.getOrDefault("host", "").strip();
        return new JobEvent(
                job,
                c,
                wellFormed("uuid", checked("uuid", uuid, MAX_UUID), repairs),
                wellFormed("parent_uuid", checked("parent_uuid", parentUuid, MAX_UUID), repairs),
                wellFormed("event", name, repairs),
                eventData == null ? "{}" : finite(eventData, repairs),
                out,
                start,
                end,
                verbosity == null ? 0 : verbosity,
                wellFormed("host_name", noNul("host_name", host), repairs),
                cut("playbook", repairs),
                cut("play", repairs),
                cut("role", repairs),
                cut("task", repairs),
                failed(name),
                changed(name),
                created == null ? received : created,
                created == null,
                received);
    }

    private long jobId() {
        if (jobId != null) return jobId;
        if (otherJobKey != null) {
            throw new EventParser.Invalid(
                    "unsupported job key '" + otherJobKey + "': only job events (job_id) are accepted");
        }
        throw new EventParser.Invalid("job_id: missing");
    }

    private boolean failed(String name) {
        if (name.equals("playbook_on_stats"))
            return statsSums.getOrDefault("failures", 0L) + statsSums.getOrDefault("dark", 0L) > 0;
        return EventTypes.isFailure(name) && !ignoreErrors;
    }

    private boolean changed(String name) {
        if (name.equals("playbook_on_stats")) return statsSums.getOrDefault("changed", 0L) > 0;
        return resChanged;
    }

    private String cut(String field, List<String> repairs) {
        String s = wellFormed(field, noNul(field, data.getOrDefault(field, "").strip()), repairs);
        return s.length() > MAX_NAME ? s.substring(0, MAX_NAME - 1) + "\u2026" : s;
    }

    /**
     * Replaces every non-number Jackson's lenient parser accepts ({@code NaN}, {@code Infinity}, {@code +Infinity},
     * {@code -Infinity}, {@code INF}, {@code +INF}, {@code -INF}) in {@code event_data} with null and reports it.
     * Python's json.dumps writes some of them for such floats (a module result can hold one); none is JSON, so a
     * browser's JSON.parse would reject the whole websocket message or page of events. Most event_data holds none of
     * the words, which three string searches show; only then is the tree built and walked.
     */
    static String finite(String eventData, List<String> repairs) {
        if (eventData.indexOf("NaN") < 0 && eventData.indexOf("Infinity") < 0 && eventData.indexOf("INF") < 0) {
            return eventData;
        }
        try {
            JsonNode tree = Json.MAPPER.readTree(eventData);
            int replaced = replaceNonFinite(tree);
            if (replaced == 0) return eventData; // the words were inside strings
            repairs.add("event_data: replaced " + replaced + " NaN/Infinity number(s) with null");
            return Json.MAPPER.writeValueAsString(tree);
        } catch (JsonProcessingException e) { // the parser walked it already; cannot happen
            throw new EventParser.Invalid("event_data: " + e.getOriginalMessage());
        }
    }

    private static int replaceNonFinite(JsonNode node) {
        int replaced = 0;
        if (node instanceof ObjectNode object) {
            for (Map.Entry<String, JsonNode> field : object.properties()) {
                if (nonFinite(field.getValue())) {
                    field.setValue(NullNode.getInstance());
                    replaced++;
                } else {
                    replaced += replaceNonFinite(field.getValue());
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                if (nonFinite(array.get(i))) {
                    array.set(i, NullNode.getInstance());
                    replaced++;
                } else {
                    replaced += replaceNonFinite(array.get(i));
                }
            }
        }
        return replaced;
    }

    private static boolean nonFinite(JsonNode node) {
        return node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue());
    }

    /**
     * Replaces unpaired UTF-16 surrogates with U+FFFD and reports it. JSON lets an emitter escape one alone
     * ({@code "\udcff"}: Python writes these for command output that was not UTF-8, decoded with surrogateescape),
     * but UTF-8 cannot encode it: the store would otherwise turn it into '?' without a word.
     */
    static String wellFormed(String field, String value, List<String> repairs) {
        int bad = 0;
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (!Character.isSurrogate(ch)) continue;
            if (Character.isHighSurrogate(ch)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else {
                bad++;
            }
        }
        if (bad == 0) return value;
        StringBuilder sb = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (Character.isHighSurrogate(ch)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                sb.append(ch).append(value.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(ch) ? '\uFFFD' : ch);
            }
        }
        repairs.add(field + ": replaced " + bad + " unpaired surrogate(s) with U+FFFD");
        return sb.toString();
    }

    private static <T> T require(String field, T value) {
        if (value == null) throw new EventParser.Invalid(field + ": missing");
        return value;
    }

    private static String checked(String field, String value, int maxLength) {
        if (value == null) return "";
        if (value.length() > maxLength)
            throw new EventParser.Invalid(field + ": longer than " + maxLength + " characters");
        return noNul(field, value);
    }

    private static String noNul(String field, String value) {
        if (value.indexOf('\0') >= 0) throw new EventParser.Invalid(field + ": contains a NUL character");
        return value;
    }
}
