package io.jobstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.Json;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * The body of {@code POST /api/v2/jobs/}: {@code playbook} (required), {@code inventory}, {@code extra_vars} (an
 * object, or a string holding a JSON object, as AWX accepts), {@code limit}, {@code name}, {@code verbosity} (0–5,
 * AWX's job template field: that many {@code -v}), {@code capture} (full, no_event_data or summary: how much of the
 * job's events is kept, SPEC §10). Unknown keys are refused so a typo does not silently launch
 * something else. Each field is bounded and checked by {@link LaunchFields}: every value is data to
 * ansible-playbook, never a file reference, an option or an Ansible setting.
 *
 * @param extraVars the extra vars as JSON object text; "{}" when none
 */
public record LaunchRequest(
        String playbook,
        String inventory,
        String extraVars,
        String limit,
        String name,
        int verbosity,
        CaptureLevel capture) {
    /** At the default capture level, {@code full}. */
    public LaunchRequest(
            String playbook, String inventory, String extraVars, String limit, String name, int verbosity) {
        this(playbook, inventory, extraVars, limit, name, verbosity, CaptureLevel.FULL);
    }

    private static final java.util.Set<String> KEYS = java.util.Set.of(
            "playbook",
            "inventory",
            "extra_vars",
            "limit",
            "name",
            "verbosity",
            "capture",
            "team"); // team: read by LaunchRoutes, which checks it against the user

    public static LaunchRequest parse(byte[] body) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new LaunchException(400, "the body must be a JSON object: malformed JSON");
        }
        if (root == null || !root.isObject()) throw new LaunchException(400, "the body must be a JSON object");
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            String key = it.next().getKey();
            if (!KEYS.contains(key)) throw new LaunchException(400, "unknown field '" + key + "'");
        }
        return new LaunchRequest(
                LaunchFields.path(text(root, "playbook"), "playbook"),
                LaunchFields.path(text(root, "inventory"), "inventory"),
                extraVars(root.get("extra_vars")),
                LaunchFields.limit(text(root, "limit")),
                LaunchFields.name(text(root, "name")),
                verbosity(root.get("verbosity")),
                capture(root.get("capture")));
    }

    private static CaptureLevel capture(JsonNode n) {
        if (n == null || n.isNull()) return CaptureLevel.FULL;
        if (!n.isTextual()) throw new LaunchException(400, "capture must be one of full, no_event_data, summary");
        try {
            return CaptureLevel.parse(n.textValue());
        } catch (IllegalArgumentException e) {
            throw new LaunchException(400, e.getMessage());
        }
    }

    private static String text(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return "";
        if (!n.isTextual()) throw new LaunchException(400, key + " must be a string");
        return n.asText().trim();
    }

    private static int verbosity(JsonNode n) {
        if (n == null || n.isNull()) return 0;
        if (!n.isInt() || n.asInt() < 0 || n.asInt() > 5) throw new LaunchException(400, "verbosity must be 0 to 5");
        return n.asInt();
    }

    private static String extraVars(JsonNode n) {
        if (n == null || n.isNull()) return "{}";
        JsonNode vars = n;
        if (n.isTextual()) {
            if (n.asText().isBlank()) return "{}";
            try {
                vars = Json.MAPPER.readTree(n.asText());
            } catch (IOException e) {
                throw new LaunchException(400, "extra_vars must be a JSON object (YAML is not accepted)");
            }
        }
        if (vars == null || !vars.isObject()) throw new LaunchException(400, "extra_vars must be a JSON object");
        String json = vars.toString();
        LaunchFields.checkExtraVars(vars, LaunchFields.utf8Length(json));
        return json;
    }
}
