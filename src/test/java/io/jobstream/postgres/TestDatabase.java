package io.jobstream.postgres;

import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An embedded PostgreSQL with jobstream's schema, a small pool and an event store on it, for the store's own tests:
 * {@code @RegisterExtension static final TestDatabase db = new TestDatabase();} starts one per test class and stops
 * it (and deletes its files) after the class.
 */
final class TestDatabase implements BeforeAllCallback, AfterAllCallback {
    private Path dataDir;
    private EmbeddedDatabase embedded;
    private Database database;
    private PostgresEventStore store;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dataDir = TempDirs.make("jobstream-store-test");
        embedded = new EmbeddedDatabase(dataDir, RunningServer.PG_BINARIES);
        database = Database.fromUrl(embedded.start(), 4);
        database.start();
        store = new PostgresEventStore(database.dataSource(), Clock.systemUTC());
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        database.close();
        embedded.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    Database database() {
        return database;
    }

    /** The store every test of the class shares (its cache of known counters included). */
    PostgresEventStore store() {
        return store;
    }
}
