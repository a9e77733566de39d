package io.jobstream.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a launch's {@code extra_vars} as the YAML file ansible-playbook reads with {@code --extra-vars=@file}, with
 * every string, dict keys included, tagged {@code !unsafe}: Ansible then never templates it, so a value such as
 * <code>{{ lookup('pipe', 'id') }}</code> stays that text at any depth. This is what AWX does (its {@code safe_dump}
 * marks values a user passes unsafe); here it is done for every string, because every string came from a user.
 *
 * <p>Why a small emitter of our own rather than a YAML library: the output needs one shape only, and every byte of
 * it is decided here. Strings are always double-quoted with every character outside printable ASCII escaped
 * ({@code \n}, {@code \0}, {@code \x85}, {@code \u2028}, {@code \U0001F600} …), so nothing a user writes can end
 * the scalar, start a tag ({@code !!python/object}), an anchor or alias ({@code &a}, {@code *a}), a comment or a
 * new line; and the YAML reader never sees a raw character it would refuse or normalise. Collections are written
 * in flow style ({@code {…}}, {@code […]}) on one line, so there is no indentation to get wrong. Numbers are
 * written so that YAML 1.1 (PyYAML, which Ansible uses) resolves them to the same int or float; booleans as
 * {@code true}/{@code false}; null as {@code null}.
 *
 * <p>The input must have passed {@link LaunchFields#checkExtraVars} (finite numbers, no lone surrogates, bounded
 * depth); anything else is a bug and throws {@link IllegalArgumentException}.
 */
final class UnsafeYaml {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private UnsafeYaml() {}

    /** The YAML document for an extra_vars object, ending with a newline. */
    static String write(JsonNode vars) {
        if (!vars.isObject()) throw new IllegalArgumentException("extra_vars must be an object");
        StringBuilder out = new StringBuilder(256);
        out.append("---\n");
        value(vars, out);
        return out.append('\n').toString();
    }

    private static void value(JsonNode n, StringBuilder out) {
        switch (n.getNodeType()) {
            case OBJECT -> {
                out.append('{');
                boolean first = true;
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (!first) out.append(", ");
                    first = false;
                    string(e.getKey(), out);
                    out.append(": ");
                    value(e.getValue(), out);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < n.size(); i++) {
                    if (i > 0) out.append(", ");
                    value(n.get(i), out);
                }
                out.append(']');
            }
            case STRING -> string(n.textValue(), out);
            case NUMBER -> out.append(number(n));
            case BOOLEAN -> out.append(n.booleanValue() ? "true" : "false");
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("cannot write a " + n.getNodeType() + " as YAML");
        }
    }

    /**
     * An integer as its digits (YAML 1.1 ints have no size limit); any other number as a float that PyYAML's
     * YAML 1.1 resolver reads as a float: it needs a '.' and a signed exponent ({@code 1.0E10} would be a string).
     */
    static String number(JsonNode n) {
        if (n.isIntegralNumber()) return n.bigIntegerValue().toString();
        double d = n.doubleValue();
        if (!Double.isFinite(d)) throw new IllegalArgumentException("not a finite number");
        String s = Double.toString(d); // always has a '.', e.g. 0.1, 1.0E10, 1.0E-5
        int e = s.indexOf('E');
        if (e < 0) return s;
        String exponent = s.substring(e + 1);
        return s.substring(0, e) + "e" + (exponent.startsWith("-") ? exponent : "+" + exponent);
    }

    /** {@code !unsafe "…"}: a double-quoted scalar in which only printable ASCII other than {@code "} and {@code \} is literal. */
    static void string(String s, StringBuilder out) {
        out.append("!unsafe \"");
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (Character.isSurrogate((char) cp) && cp < 0x10000) {
                throw new IllegalArgumentException("lone surrogate at " + i);
            }
            i += Character.charCount(cp);
            switch (cp) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                case 0 -> out.append("\\0");
                default -> {
                    if (cp >= 0x20 && cp < 0x7F) out.append((char) cp);
                    else if (cp <= 0xFF) hex(out, 'x', cp, 2);
                    else if (cp <= 0xFFFF) hex(out, 'u', cp, 4);
                    else hex(out, 'U', cp, 8);
                }
            }
        }
        out.append('"');
    }

    private static void hex(StringBuilder out, char kind, int cp, int digits) {
        out.append('\\').append(kind);
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.append(HEX[(cp >> shift) & 0xF]);
    }
}
