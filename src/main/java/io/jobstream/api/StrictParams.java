package io.jobstream.api;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Query parameters of the run-analysis routes (SPEC §11), read strictly: an unknown parameter, a page size out of
 * range or a value that is not what it should be is a 400 naming the parameter, never silently clamped (these
 * routes are new, no AWX client depends on leniency).
 */
final class StrictParams {
    static final int MAX_PAGE_SIZE = 200;
    private final Map<String, List<String>> params;

    StrictParams(Map<String, List<String>> params, Set<String> allowed, String what) {
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            if (!allowed.contains(e.getKey()))
                throw ApiError.badRequest("unknown parameter '" + shorten(e.getKey()) + "' for " + what + "; known: "
                        + String.join(", ", new java.util.TreeSet<>(allowed)));
            if (e.getValue().size() > 1)
                throw ApiError.badRequest("parameter '" + e.getKey() + "' is given more than once");
        }
        this.params = params;
    }

    String text(String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    int pageSize(int dflt) {
        String v = text("page_size");
        if (v == null) return dflt;
        int n = integer("page_size", v);
        if (n < 1 || n > MAX_PAGE_SIZE)
            throw ApiError.badRequest("page_size must be 1.." + MAX_PAGE_SIZE + ", was " + shorten(v));
        return n;
    }

    int page() {
        String v = text("page");
        if (v == null) return 1;
        int n = integer("page", v);
        if (n < 1) throw ApiError.badRequest("page must be 1 or more, was " + shorten(v));
        return n;
    }

    /** null when absent */
    Boolean bool(String name) {
        String v = text(name);
        if (v == null) return null;
        Boolean b = QueryParams.bool(v);
        if (b == null) throw ApiError.badRequest(name + " must be true or false, was '" + shorten(v) + "'");
        return b;
    }

    /** A non-empty text of at most {@code max} characters, null when absent. */
    String word(String name, int max) {
        String v = text(name);
        if (v == null) return null;
        if (v.isEmpty() || v.length() > max || v.indexOf('\0') >= 0)
            throw ApiError.badRequest(name + " must be 1.." + max + " characters without NUL");
        return v;
    }

    private static int integer(String name, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(name + " must be an integer, was '" + shorten(v) + "'");
        }
    }

    /** Echoes at most 40 characters of what the client sent. */
    static String shorten(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
