package io.jobstream.postgres;

import io.jobstream.persist.EventStore;
import io.jobstream.persist.EventStoreContract;
import java.time.Clock;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The store contract against a real (embedded) PostgreSQL; one database for the class, each test its own jobs. */
class PostgresEventStoreContractIT extends EventStoreContract {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Override
    protected EventStore store() {
        return db.store();
    }

    @Override
    protected EventStore anotherWriter() {
        return new PostgresEventStore(
                db.database().dataSource(), Clock.systemUTC()); // an empty cache of known counters
    }
}
