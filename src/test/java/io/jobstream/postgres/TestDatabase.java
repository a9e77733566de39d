package io.jobstream.postgres;

import io.jobstream.testing.RunningServer;
import java.nio.file.Path;
import java.time.Clock;

/**
 * An embedded PostgreSQL with jobstream's schema, a small pool and an event store on it, for the store's own tests: one
 * per test class, started in {@code @BeforeAll} and closed in {@code @AfterAll}.
 */
final class TestDatabase implements AutoCloseable {
    private final EmbeddedDatabase embedded;
    final Database database;
    final PostgresEventStore store;

    private TestDatabase(EmbeddedDatabase embedded, Database database) {
        this.embedded = embedded;
        this.database = database;
        this.store = new PostgresEventStore(database.dataSource(), Clock.systemUTC());
    }

    static TestDatabase start(Path dataDir) {
        EmbeddedDatabase embedded = new EmbeddedDatabase(dataDir, RunningServer.PG_BINARIES);
        Database database = Database.fromUrl(embedded.start(), 4);
        database.start();
        return new TestDatabase(embedded, database);
    }

    @Override
    public void close() {
        database.close();
        embedded.close();
    }
}
