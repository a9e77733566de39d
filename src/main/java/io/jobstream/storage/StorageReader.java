package io.jobstream.storage;

/** Reads how much the store holds. Thread-safe; each call borrows one connection. */
public interface StorageReader {
    /** The report, with the {@code top} largest jobs and playbooks. */
    StorageReport report(int top);
}
