package io.jobstream.storage;

import java.util.Collection;
import java.util.Map;

/** Reads how much the store holds. Thread-safe; each call borrows one connection. */
public interface StorageReader {
    /** The report, with the {@code top} largest jobs and playbooks. */
    StorageReport report(int top);

    /** For each of these jobs that exists, whether its events expired; jobs without a row are left out. */
    Map<Long, Boolean> eventsExpired(Collection<Long> jobIds);
}
