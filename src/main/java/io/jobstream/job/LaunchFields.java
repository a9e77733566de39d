package io.jobstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a launch field may hold. Every field a user sends is bounded in size and refused (400, with the reason) when
 * it could be more than data to ansible-playbook: a host pattern that reads a file, a variable that changes how
 * Ansible connects or which interpreter it runs, text with control characters or broken UTF-16. The limits are
 * documented in docs/OPERATIONS.md ("Launched jobs").
 */
final class LaunchFields {
    /** AWX's {@code name} max_length. */
    static final int MAX_NAME = 512;
    /** AWX's {@code playbook} max_length; inventories alike. */
    static final int MAX_PATH = 1024;

    static final int MAX_LIMIT = 4096;
    /** {@code extra_vars} as compact JSON, in UTF-8 bytes. */
    static final int MAX_EXTRA_VARS_BYTES = 1 << 20;
    /** Nesting of {@code extra_vars}: the object itself is depth 1. */
    static final int MAX_EXTRA_VARS_DEPTH = 32;
    /** The whole request body; read no further than this. */
    static final int MAX_BODY_BYTES = MAX_EXTRA_VARS_BYTES + (64 << 10);

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Ansible's magic variables that extra_vars could shadow; {@code ansible_*} and {@code _ansible*} go by prefix. */
    private static final Set<String> MAGIC = Set.of(
            "hostvars",
            "groups",
            "group_names",
            "inventory_hostname",
            "inventory_hostname_short",
            "inventory_dir",
            "inventory_file",
            "omit",
            "play_hosts",
            "playbook_dir",
            "role_name",
            "role_names",
            "role_path",
            "vars",
            "environment",
            "lookup",
            "query",
            "q");

    private LaunchFields() {}

    static String name(String s) {
        return text(s, "name", MAX_NAME);
    }

    static String path(String s, String what) {
        return text(s, what, MAX_PATH);
    }

    /**
     * A host pattern. Ansible reads a pattern part that starts with {@code @} as a file of host names (and shows its
     * lines in errors: {@code @/etc/shadow} would copy that file into the job's output), and a pattern splits on
     * {@code ,} and {@code :} with spaces around parts allowed; no host name holds an {@code @}, so any is refused.
     */
    static String limit(String s) {
        text(s, "limit", MAX_LIMIT);
        if (s.indexOf('@') >= 0) {
            throw bad("limit is a host pattern: '@' (which makes Ansible read a file) is not allowed");
        }
        return s;
    }

    /** Bounded, no control characters (they have no place in a name or pattern, and NUL breaks PostgreSQL text). */
    private static String text(String s, String what, int max) {
        if (s.length() > max) throw bad(what + " is longer than " + max + " characters");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c)) {
                throw bad(what + " must not contain control characters (found U+" + hex(c) + " at " + i + ")");
            }
            if (Character.isSurrogate(c)) {
                boolean paired =
                        Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
                if (!paired) throw bad(what + " is not valid Unicode (a lone surrogate at " + i + ")");
                i++;
            }
        }
        return s;
    }

    /**
     * extra_vars: at most {@link #MAX_EXTRA_VARS_BYTES} as JSON and {@link #MAX_EXTRA_VARS_DEPTH} deep; strings are
     * valid Unicode (NUL is allowed: it is data, and the YAML file escapes it); numbers finite. Top-level names are
     * identifiers (the only names a playbook can use) and are not Ansible's own: an {@code ansible_*} variable
     * passed as an extra var wins over every other source and decides how Ansible connects and what it executes
     * ({@code ansible_python_interpreter}, {@code ansible_shell_executable}, {@code ansible_ssh_common_args},
     * {@code ansible_become_exe}, …): marking the value unsafe does not stop it from being run as a command.
     */
    static void checkExtraVars(JsonNode vars, int jsonBytes) {
        if (jsonBytes > MAX_EXTRA_VARS_BYTES) {
            throw bad("extra_vars is larger than " + MAX_EXTRA_VARS_BYTES + " bytes as JSON");
        }
        for (Iterator<String> it = vars.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!IDENTIFIER.matcher(key).matches()) {
                throw bad("extra_vars name '" + shorten(key) + "' is not a variable name (letters, digits, _)");
            }
            String lower = key.toLowerCase(Locale.ROOT);
            if (lower.startsWith("ansible_") || lower.startsWith("_ansible") || MAGIC.contains(lower)) {
                throw bad("extra_vars name '" + key + "' is reserved: Ansible's own variables cannot be set at launch");
            }
        }
        walk(vars, 1, "extra_vars");
    }

    private static void walk(JsonNode n, int depth, String where) {
        if (n.isContainerNode() && depth > MAX_EXTRA_VARS_DEPTH) {
            throw bad("extra_vars is nested deeper than " + MAX_EXTRA_VARS_DEPTH + " levels");
        }
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                unicode(e.getKey(), where);
                walk(e.getValue(), depth + 1, where);
            }
        } else if (n.isArray()) {
            for (JsonNode item : n) walk(item, depth + 1, where);
        } else if (n.isTextual()) {
            unicode(n.textValue(), where);
        } else if (n.isNumber() && !n.isIntegralNumber() && !Double.isFinite(n.doubleValue())) {
            throw bad(where + " holds a number that is not finite (NaN, Infinity or too large)");
        }
    }

    private static void unicode(String s, String where) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else {
                throw bad(where + " holds a string that is not valid Unicode (a lone surrogate)");
            }
        }
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String shorten(String s) {
        String printable = s.codePoints()
                .limit(40)
                .map(c -> Character.isISOControl(c) || Character.isSurrogate((char) c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return s.length() > 40 ? printable + "…" : printable;
    }

    private static String hex(char c) {
        return String.format("%04X", (int) c);
    }

    private static LaunchException bad(String reason) {
        return new LaunchException(400, reason);
    }
}
