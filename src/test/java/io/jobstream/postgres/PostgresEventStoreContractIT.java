package io.jobstream.postgres;

import io.jobstream.persist.EventStore;
import io.jobstream.persist.EventStoreContract;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The store contract against a real (embedded) PostgreSQL; one database for the class, each test its own jobs. */
class PostgresEventStoreContractIT extends EventStoreContract {
    @TempDir
    static Path dataDir;

    static TestDatabase db;
    static Database database;
    static PostgresEventStore store;

    @BeforeAll
    static void startDatabase() {
        db = TestDatabase.start(dataDir);
        database = db.database;
        store = db.store;
    }

    @AfterAll
    static void stopDatabase() {
        db.close();
    }

    @Override
    protected EventStore store() {
        return store;
    }

    @Override
    protected EventStore anotherWriter() {
        return new PostgresEventStore(database.dataSource(), Clock.systemUTC()); // an empty cache of known counters
    }
}
