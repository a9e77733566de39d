package io.jobstream.queue;

/** The queue contract for the embedded default. */
class MemoryEventQueueContractTest extends EventQueueContract {
    @Override
    protected EventQueue newQueue(int capacity) {
        return new MemoryEventQueue(capacity, 1 << 20);
    }

    @Override
    protected EventQueue reopen(EventQueue queue) {
        return queue; // its data is its heap: a restart keeps nothing, so the contract's "after a restart" is itself
    }
}
