package io.jobstream.storage;

import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Applies retention to the store: deletes the events, or whole jobs, of jobs that finished before a cutoff. At most
 * one cleanup runs at a time over all nodes sharing the database. Thread-safe; each call borrows one connection.
 */
public interface Cleaner {
    /**
     * Runs {@code request} against the store as of {@code now}, telling {@code progress} what it does as it goes.
     *
     * @return what was deleted, or empty when another cleanup (this node's or another's) holds the lock
     */
    Optional<CleanupResult> clean(CleanupRequest request, Instant now, Consumer<String> progress);
}
