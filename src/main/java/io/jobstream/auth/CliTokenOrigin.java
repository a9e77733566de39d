package io.jobstream.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * Which node the admin token in {@code <data-dir>/cli-token} belongs to: the origin (scheme, host, port) the node
 * serves on and its process id, in {@code <data-dir>/cli-token.origin} (0600), written by the node once it listens
 * and removed when it stops. The client tools send the token only to that origin while that process lives, so
 * {@code --url http://elsewhere/} (or a stale port some other program took over) never receives it.
 *
 * <p>A node bound to a wildcard address (0.0.0.0, ::) is reached by the tools through the loopback names; those are
 * then its origin too. Stateless; every method does its own file I/O.
 */
public record CliTokenOrigin(String origin, long pid) {
    public static final String FILE = NodeTokens.CLI_TOKEN_FILE + ".origin";
    private static final Set<String> WILDCARD = Set.of("0.0.0.0", "[::]", "::");
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]");

    /** Records that this process serves the data dir's cli-token at {@code base}. */
    public static void write(Path dataDir, URI base) {
        Properties p = new Properties();
        p.setProperty("origin", originOf(base));
        p.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
        try {
            Path tmp = Files.createTempFile(
                    dataDir,
                    "." + FILE,
                    ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (var out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(out, "the node that wrote cli-token; the client tools send it only here");
            }
            Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dataDir.resolve(FILE), e);
        }
    }

    /** Removes the record when it is this process's (a node stopping); another node's is left alone. */
    public static void remove(Path dataDir) {
        Optional<CliTokenOrigin> mine =
                read(dataDir).filter(o -> o.pid() == ProcessHandle.current().pid());
        if (mine.isEmpty()) return;
        try {
            Files.deleteIfExists(dataDir.resolve(FILE));
        } catch (IOException e) {
            // the next start overwrites it; a dead pid already keeps the tools from trusting it
        }
    }

    /** The record in {@code dataDir}, empty when there is none or it cannot be read. */
    public static Optional<CliTokenOrigin> read(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        if (!Files.isReadable(file)) return Optional.empty();
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
            return Optional.of(
                    new CliTokenOrigin(p.getProperty("origin", ""), Long.parseLong(p.getProperty("pid", "0"))));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Whether the token may go to {@code target}: this node's origin, and the node still running. */
    public boolean admits(URI target) {
        String to = originOf(target);
        if (to.isEmpty() || !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) return false;
        if (to.equals(origin)) return true;
        URI recorded = URI.create(origin);
        URI wanted = URI.create(to);
        return WILDCARD.contains(recorded.getHost())
                && LOOPBACK.contains(wanted.getHost())
                && recorded.getScheme().equals(wanted.getScheme())
                && recorded.getPort() == wanted.getPort();
    }

    /** {@code scheme://host:port}, lower case, the port explicit ({@code ws} counts as {@code http}); "" if none. */
    static String originOf(URI uri) {
        if (uri == null || uri.getScheme() == null || uri.getHost() == null) return "";
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        scheme = switch (scheme) {
            case "ws" -> "http";
            case "wss" -> "https";
            default -> scheme;
        };
        int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
    }
}
