package io.jobstream.auth;

import io.jobstream.config.PrivateFiles;
import io.jobstream.event.CaptureLevel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Tokens the node issues to its own helpers: a launched job's plugin gets an ingest token for that job only (revoked
 * when the run ends), the demo replay an emitter token (revoked on stop), and the local command-line tools an admin
 * API token in {@code <data-dir>/cli-token} (mode 0600), which {@code ./jobstream lag|stats|run|...} read by default.
 * Node-issued ingest tokens expire after a week anyway, so a node killed mid-run leaves nothing usable for long.
 * Thread-safe.
 */
public final class NodeTokens {
    public static final String CLI_TOKEN_FILE = "cli-token";
    private static final Duration INGEST_LIFETIME = Duration.ofDays(7);

    private final AuthStore store;
    private final Clock clock;

    public NodeTokens(AuthStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** A secret that may write events of {@code jobId} only (null: of every job). */
    public Issued ingest(Long jobId, String description) {
        return ingest(jobId, description, null);
    }

    /** The same, for a job whose events are taken at {@code capture} (null = full). */
    public Issued ingest(Long jobId, String description, CaptureLevel capture) {
        String secret = Secrets.newSecret();
        long id = store.createToken(
                Secrets.sha256(secret),
                null,
                Token.INGEST,
                jobId,
                description,
                clock.instant().plus(INGEST_LIFETIME),
                capture);
        return new Issued(id, secret);
    }

    public void revokeJob(long jobId) {
        store.deleteJobTokens(jobId);
    }

    public void revoke(Issued issued) {
        store.deleteToken(issued.id(), null);
    }

    public record Issued(long id, String secret) {
        @Override
        public String toString() {
            return "Issued[id=" + id + "]"; // never the secret
        }
    }

    /**
     * Makes sure {@code <dataDir>/cli-token} holds a valid API token of the first superuser: kept when still valid,
     * replaced otherwise (e.g. a fresh database under an old data dir). Returns the token, or empty when there is no
     * superuser.
     */
    public Optional<String> ensureCliToken(Path dataDir) {
        Path file = dataDir.resolve(CLI_TOKEN_FILE);
        try {
            if (Files.isReadable(file)) {
                String current = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!current.isEmpty()
                        && store.token(Secrets.sha256(current), clock.instant()).isPresent()) {
                    return Optional.of(current);
                }
            }
            Optional<User> admin = store.firstSuperuser();
            if (admin.isEmpty()) return Optional.empty();
            String secret = Secrets.newSecret();
            store.createToken(
                    Secrets.sha256(secret),
                    admin.get().id(),
                    Token.API,
                    null,
                    "cli-token in " + dataDir.toAbsolutePath().normalize(),
                    null);
            PrivateFiles.directory(dataDir);
            PrivateFiles.writeString(file, secret + "\n");
            return Optional.of(secret);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
