package io.jobstream.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server started by this process from binaries shipped as a Maven artifact (zonky), with its
 * data kept under {@code <data-dir>/pg} across restarts. fsync and synchronous_commit stay on: a 2xx from ingest
 * promises durability, and at batches of a thousand rows per commit they cost little (STACK.md §3).
 * Works as root: zonky runs initdb/postgres inside {@code unshare -U}. Owned and closed by Server.
 */
public final class EmbeddedDatabase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
    private final Path dataDir;
    private EmbeddedPostgres postgres;

    public EmbeddedDatabase(Path dataDir) {
        this.dataDir = dataDir.toAbsolutePath().normalize().resolve("pg");
    }

    /** Starts the server (initdb on first use) and returns a JDBC URL for user postgres. */
    public String start() {
        try {
            Files.createDirectories(dataDir);
            long t0 = System.nanoTime();
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    // Our own shutdown (Server.close) stops it last; zonky's hook would stop it at the same time as
                    // Server.close starts, so the receiver could not commit what is queued nor canceled jobs their tail.
                    .setRegisterShutdownHook(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "100")
                    .start();
            log.info("embedded PostgreSQL started in {} ms, data in {}", (System.nanoTime() - t0) / 1_000_000, dataDir);
            return postgres.getJdbcUrl("postgres", "postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start embedded PostgreSQL in " + dataDir, e);
        }
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
