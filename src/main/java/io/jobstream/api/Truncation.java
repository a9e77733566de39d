package io.jobstream.api;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AWX's list-view cut of long stdout (reference §7.1): the first {@code max - 1} characters, an ellipsis, then
 * one reset {@code ESC[0m} for every SGR set sequence left open, so a cut coloured line does not bleed colour
 * into the next one. Characters are code points, as Python counts them.
 */
final class Truncation {
    private static final Pattern SGR = Pattern.compile("\u001b\\[[0-9;]*m");
    private static final String RESET = "\u001b[0m";

    private Truncation() {}

    /** Whether an event of this type is ever cut: AWX shows playbook_on_* events whole. */
    static boolean applies(String event) {
        return !event.startsWith("playbook_on");
    }

    static String truncate(String stdout, int max) {
        if (max <= 0 || stdout.length() <= max || stdout.codePointCount(0, stdout.length()) <= max) return stdout;
        String cut = stdout.substring(0, stdout.offsetByCodePoints(0, max - 1)) + "\u2026";
        int sets = 0;
        int resets = 0;
        Matcher m = SGR.matcher(cut);
        while (m.find()) {
            // like AWX, only the literal ESC[0m counts as a reset (ESC[m is counted as a set)
            if (m.group().equals(RESET)) resets++;
            else sets++;
        }
        StringBuilder out = new StringBuilder(cut.length() + 4 * Math.max(0, sets - resets)).append(cut);
        for (int i = resets; i < sets; i++) out.append(RESET);
        return out.toString();
    }
}
