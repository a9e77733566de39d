package io.jobstream.postgres;

import io.jobstream.config.PrivateFiles;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server started by this process from binaries shipped as a Maven artifact (zonky), with its
 * data kept under {@code <data-dir>/pg} across restarts. fsync and synchronous_commit stay on: a 2xx from ingest
 * promises durability, and at batches of a thousand rows per commit they cost little (STACK.md §3).
 * Works as root: zonky runs initdb/postgres inside {@code unshare -U}. Owned and closed by Server.
 *
 * <p>Private to the node's user (issue 12.3): it listens on 127.0.0.1 only, has no unix socket, and every connection
 * needs a password ({@link EmbeddedAccess}); the node connects as a role that owns the database but is no superuser.
 * The binaries are unpacked in a private directory, never zonky's default {@code /tmp/embedded-pg}, which zonky makes
 * world-writable: another user could put their own {@code postgres} there for the node to run.
 */
public final class EmbeddedDatabase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
    /** zonky reads its work directory (where it cleans up "stale" data dirs) from this property only. */
    private static final String ZONKY_WORK_DIR = "ot.epg.working-dir";
    /**
     * zonky caches unpacked binaries per resolver, JVM-wide: one resolver per binaries directory keeps each node's
     * binaries where it asked for them.
     */
    private static final Map<Path, PgBinaryResolver> RESOLVERS = new ConcurrentHashMap<>();

    private static String digest; // guarded by the class: see archiveDigest
    private final Path home;
    private final Path dataDir;
    private final Path binariesDir;
    private EmbeddedPostgres postgres;

    /** @param home the node's data dir; PostgreSQL's data goes in {@code home/pg}, binaries in {@code home/pg-bin} */
    public EmbeddedDatabase(Path home) {
        this(home, home.resolve("pg-bin"));
    }

    public EmbeddedDatabase(Path home, Path binariesDir) {
        this.home = home.toAbsolutePath().normalize();
        this.dataDir = this.home.resolve("pg");
        this.binariesDir = binariesDir.toAbsolutePath().normalize();
    }

    /**
     * Starts the server (initdb on first use) and returns the URL the node's pool uses:
     * {@code postgresql://jobstream:<password>@127.0.0.1:<port>/postgres}.
     */
    public String start() {
        try {
            PrivateFiles.ownDirectory(home);
            PrivateFiles.directory(dataDir);
            // a node killed before it could stop its server left it running on this directory (the caller holds the
            // data dir's lock, so no live node owns it): it would keep ours from starting
            LeftoverPostmaster.of(dataDir).stopIfRunning();
            // zonky makes the directory it unpacks into world-writable: that one sits inside our private one
            Path workDir = PrivateFiles.ownDirectory(binariesDir).resolve("zonky");
            EmbeddedAccess access = EmbeddedAccess.of(home);
            PgBinaryResolver resolver =
                    RESOLVERS.computeIfAbsent(workDir, d -> DefaultPostgresBinaryResolver.INSTANCE::getPgBinary);
            Path bin = workDir.resolve("PG-" + archiveDigest()).resolve("bin");
            long t0 = System.nanoTime();
            postgres = builder(workDir)
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setOverrideWorkingDirectory(workDir.toFile())
                    .setPgBinaryResolver(resolver)
                    // after initdb (trust), before the postmaster: passwords and pg_hba.conf while nothing listens
                    .setDataDirectoryCustomizer(dir -> access.lockDown(dir.toPath(), bin))
                    .setConnectConfig("password", access.superuserPassword()) // zonky's own "is it up?" check
                    // Our own shutdown (Server.close) stops it last; zonky's hook would stop it at the same time as
                    // Server.close starts, so the receiver could not commit what is queued nor canceled jobs their
                    // tail.
                    .setRegisterShutdownHook(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // no socket: the compiled-in default is /tmp, where any user may connect or squat the lock file
                    .setServerConfig("unix_socket_directories", "''")
                    .setServerConfig("password_encryption", "scram-sha-256")
                    .setServerConfig("max_connections", "100")
                    .start();
            PrivateFiles.directory(workDir); // zonky made it world-writable; harmless inside ours, but keep it tidy
            log.info("embedded PostgreSQL started in {} ms, data in {}", (System.nanoTime() - t0) / 1_000_000, dataDir);
            return "postgresql://" + EmbeddedAccess.ROLE + ":" + access.password() + "@127.0.0.1:" + postgres.getPort()
                    + "/postgres";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir, e);
        }
    }

    /** zonky reads its work directory when a builder is made: set it for this builder only, one builder at a time. */
    private static EmbeddedPostgres.Builder builder(Path workDir) {
        synchronized (EmbeddedDatabase.class) {
            String before = System.getProperty(ZONKY_WORK_DIR);
            System.setProperty(ZONKY_WORK_DIR, workDir.toString());
            try {
                return EmbeddedPostgres.builder();
            } finally {
                if (before == null) System.clearProperty(ZONKY_WORK_DIR);
                else System.setProperty(ZONKY_WORK_DIR, before);
            }
        }
    }

    /**
     * zonky unpacks into {@code PG-<md5 of the archive>}; the lock-down step runs that {@code postgres} before zonky
     * does. The archive is on the class path and does not change while the JVM runs: read it once.
     */
    private static synchronized String archiveDigest() throws IOException {
        if (digest != null) return digest;
        try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system(), architecture())) {
            if (in == null) throw new IOException("no embedded PostgreSQL binaries for this system on the class path");
            DigestInputStream md5 = new DigestInputStream(in, MessageDigest.getInstance("MD5"));
            md5.transferTo(OutputStream.nullOutputStream());
            digest = HexFormat.of().formatHex(md5.getMessageDigest().digest());
            return digest;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As zonky names them. */
    private static String system() {
        String os = System.getProperty("os.name");
        return os.startsWith("Mac") ? "Darwin" : os.startsWith("Windows") ? "Windows" : "Linux";
    }

    private static String architecture() {
        String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) ? "x86_64" : arch;
    }

    @Override
    public void close() {
        if (postgres == null) return;
        try {
            postgres.close();
        } catch (IOException e) {
            log.warn("embedded PostgreSQL did not stop cleanly: {}", e.toString());
        }
        postgres = null;
    }
}
