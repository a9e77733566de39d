package io.jobstream.auth;

import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** AWX's page paginator for the small auth lists: {@code page}, {@code page_size} (25, at most 200), count/next/previous. */
record ApiPage(int page, int size) {
    static final int DEFAULT_SIZE = 25;
    static final int MAX_SIZE = 200;

    /** From the query; null (after a 400 or 404 is written) when the parameters are bad. */
    static ApiPage of(Context ctx) {
        try {
            int page = ctx.queryParam("page") == null ? 1 : Integer.parseInt(ctx.queryParam("page"));
            int size =
                    ctx.queryParam("page_size") == null ? DEFAULT_SIZE : Integer.parseInt(ctx.queryParam("page_size"));
            if (page < 1) throw new NumberFormatException();
            return new ApiPage(page, Math.max(1, Math.min(MAX_SIZE, size)));
        } catch (NumberFormatException e) {
            Requests.detail(ctx, 404, "Invalid page.");
            return null;
        }
    }

    long offset() {
        return (long) (page - 1) * size;
    }

    Map<String, Object> body(Context ctx, long count, List<?> results) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("count", count);
        body.put("next", offset() + results.size() < count ? link(ctx, page + 1) : null);
        body.put("previous", page > 1 ? link(ctx, page - 1) : null);
        body.put("results", results);
        return body;
    }

    /** The same list's page {@code p}: the request's filters and order kept (awx list --all follows these links). */
    private String link(Context ctx, int p) {
        StringBuilder b = new StringBuilder(ctx.path()).append("?page=").append(p);
        if (size != DEFAULT_SIZE) b.append("&page_size=").append(size);
        ctx.queryParamMap().forEach((key, values) -> {
            if (key.equals("page") || key.equals("page_size")) return;
            for (String v : values)
                b.append('&').append(encode(key)).append('=').append(encode(v));
        });
        return b.toString();
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }
}
