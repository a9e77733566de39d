package io.jobstream.ui;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Serves the UI's files from one classpath folder, with their content type and an ETag.
 *
 * <p>The files are not fingerprinted, so they are sent with {@code Cache-Control: no-cache}: the browser keeps
 * them but revalidates each time, and an unchanged file costs a 304 with no body. After an upgrade the new
 * files are picked up at once. Files are read once, on first request, and kept: they are few and small and
 * cannot change inside a running jar. Only names made of plain segments and ending in a known extension are looked
 * up, so no request can climb out of the folder ({@code ..}) or probe the rest of the classpath.
 *
 * <p>Thread-safe.
 */
final class ClasspathAssets {
    private static final Pattern SAFE_PATH =
            Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*");
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("woff2", "font/woff2"));

    record Asset(byte[] bytes, String contentType, String etag) {}

    private final String folder;
    private final ClassLoader loader;
    private final Map<String, Asset> cache = new ConcurrentHashMap<>();

    ClasspathAssets(String folder, ClassLoader loader) {
        this.folder = folder.endsWith("/") ? folder : folder + "/";
        this.loader = loader;
    }

    /** Answers a static asset request: 200 with the file, 304 when the browser's copy is current, else 404. */
    void serve(Context ctx, String path) {
        Optional<Asset> found = find(path);
        if (found.isEmpty()) {
            ctx.status(HttpStatus.NOT_FOUND).result("Not found");
            return;
        }
        Asset asset = found.get();
        ctx.header("ETag", asset.etag());
        ctx.header("Cache-Control", "no-cache");
        ctx.header("X-Content-Type-Options", "nosniff");
        if (asset.etag().equals(ctx.header("If-None-Match"))) {
            ctx.status(HttpStatus.NOT_MODIFIED);
            return;
        }
        ctx.contentType(asset.contentType()).result(asset.bytes());
    }

    /** Writes a page that must exist in the jar; its absence is a packaging bug, hence the exception. */
    void writePage(Context ctx, String name) {
        Asset asset = find(name)
                .orElseThrow(() -> new IllegalStateException("UI page missing from the jar: " + folder + name));
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.contentType(asset.contentType()).result(asset.bytes());
    }

    Optional<Asset> find(String path) {
        // a known extension also keeps directories out (a directory on the file-system classpath reads as a listing)
        if (path == null || !SAFE_PATH.matcher(path).matches() || extension(path) == null) return Optional.empty();
        Asset cached = cache.get(path);
        if (cached != null) return Optional.of(cached);
        Asset loaded = load(path);
        if (loaded == null) return Optional.empty(); // misses are not cached: arbitrary names must not grow the map
        cache.putIfAbsent(path, loaded);
        return Optional.of(loaded);
    }

    private Asset load(String path) {
        try (InputStream in = loader.getResourceAsStream(folder + path)) {
            if (in == null) return null;
            byte[] bytes = in.readAllBytes();
            return new Asset(bytes, contentType(path), etag(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read UI asset " + folder + path, e);
        }
    }

    static String contentType(String path) {
        String ext = extension(path);
        return ext == null ? "application/octet-stream" : TYPES.get(ext);
    }

    /** The file's extension when it is one we serve, else null. */
    private static String extension(String path) {
        int dot = path.lastIndexOf('.');
        if (dot < 0 || dot < path.lastIndexOf('/')) return null;
        String ext = path.substring(dot + 1).toLowerCase(Locale.ROOT);
        return TYPES.containsKey(ext) ? ext : null;
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
