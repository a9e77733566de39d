package io.jobstream.api;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Django REST framework's lenient readings of paging parameters, shared by the jobs and events lists. */
final class QueryParams {
    static final int DEFAULT_PAGE_SIZE = 25;
    static final int MAX_PAGE_SIZE = 200;
    private static final Set<String> TRUE = Set.of("true", "t", "yes", "y", "on", "1");
    private static final Set<String> FALSE = Set.of("false", "f", "no", "n", "off", "0");

    private QueryParams() {}

    static String first(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** A page size: missing or not a positive integer gives the default, above the maximum is capped (AWX). */
    static int pageSize(String text) {
        if (text == null) return DEFAULT_PAGE_SIZE;
        try {
            int n = Integer.parseInt(text.trim());
            return n < 1 ? DEFAULT_PAGE_SIZE : Math.min(n, MAX_PAGE_SIZE);
        } catch (NumberFormatException e) {
            return DEFAULT_PAGE_SIZE;
        }
    }

    /** A 1-based page number; anything else is DRF's 404 "Invalid page.". */
    static int page(String text) {
        if (text == null) return 1;
        if ("last".equals(text)) throw ApiError.badRequest("page=last is not supported; use count to compute it");
        try {
            int n = Integer.parseInt(text.trim());
            if (n < 1) throw ApiError.invalidPage();
            return n;
        } catch (NumberFormatException e) {
            throw ApiError.invalidPage();
        }
    }

    static long offset(String text) {
        if (text == null) return 0;
        try {
            return Math.max(0, Long.parseLong(text.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** A flag that is on when present, unless it says false/0/no (AWX tests presence only). */
    static boolean flag(Map<String, List<String>> params, String name) {
        if (!params.containsKey(name)) return false;
        String v = first(params, name);
        return v == null || !FALSE.contains(v.trim().toLowerCase(java.util.Locale.ROOT));
    }

    /** AWX's to_python_boolean; null when the text is not a boolean. */
    static Boolean bool(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (TRUE.contains(t)) return Boolean.TRUE;
        if (FALSE.contains(t)) return Boolean.FALSE;
        return null;
    }
}
