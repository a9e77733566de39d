package io.jobstream.api;

/**
 * AWX's {@code next}/{@code previous} links: the request's own path and query with {@code page} replaced
 * (removed for page 1), relative to the host as AWX writes them.
 */
final class PageLinks {
    private PageLinks() {}

    static String next(String path, String query, int page, int pageSize, long count) {
        return (long) page * pageSize < count ? withPage(path, query, page + 1) : null;
    }

    static String previous(String path, String query, int page) {
        return page > 1 ? withPage(path, query, page - 1) : null;
    }

    static String withPage(String path, String query, int page) {
        StringBuilder q = new StringBuilder();
        if (query != null && !query.isEmpty()) {
            for (String part : query.split("&")) {
                if (part.isEmpty() || part.equals("page") || part.startsWith("page=")) continue;
                if (q.length() > 0) q.append('&');
                q.append(part);
            }
        }
        if (page > 1) {
            if (q.length() > 0) q.append('&');
            q.append("page=").append(page);
        }
        return q.length() == 0 ? path : path + "?" + q;
    }
}
