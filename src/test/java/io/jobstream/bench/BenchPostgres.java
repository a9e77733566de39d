package io.jobstream.bench;

import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.DebianPostgres;
import java.nio.file.Path;

/**
 * The PostgreSQL a benchmark writes to: the embedded one, or Debian's when the named environment variable says
 * {@code debian} (built with lz4, as an external server usually is; the embedded build has none, docs/BENCHMARKS.md
 * §1c). {@code data} is its data directory, where {@link ProcessCpu#postgresTicks} finds the postmaster.
 */
record BenchPostgres(String url, Path data, Runnable stop) implements AutoCloseable {
    static BenchPostgres start(Path dir, String switchVariable) {
        if ("debian".equals(System.getenv(switchVariable))) {
            DebianPostgres server = DebianPostgres.start(dir);
            return new BenchPostgres(server.url(), dir.resolve("data"), server::close);
        }
        EmbeddedDatabase server = new EmbeddedDatabase(dir);
        return new BenchPostgres(server.start(), dir.resolve("pg"), server::close);
    }

    @Override
    public void close() {
        stop.run();
    }
}
