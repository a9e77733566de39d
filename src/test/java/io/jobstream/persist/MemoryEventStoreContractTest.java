package io.jobstream.persist;

import java.time.Clock;

/** The store contract for the test store the receiver's unit tests run on, so that they test against the truth. */
class MemoryEventStoreContractTest extends EventStoreContract {
    private final MemoryEventStore store = new MemoryEventStore(Clock.systemUTC());

    @Override
    protected EventStore store() {
        return store;
    }

    @Override
    protected EventStore anotherWriter() {
        return store; // one process, one map: there is no other writer to be
    }
}
