package io.jobstream.persist;

import io.jobstream.event.JobMessage;
import java.util.List;

/**
 * Durable storage of job events (the write side). Implementations: PostgresEventStore.
 * Called only from the receiver thread.
 */
public interface EventStore {
    /**
     * Writes a batch in one transaction: new events become rows, redelivered ones are reported as duplicates,
     * EOFs set the job's final counter, and job bookkeeping is updated. A message that cannot be stored even
     * alone (poison) is parked and reported as such; its neighbours are stored.
     *
     * @throws RuntimeException when the store is unavailable; nothing was committed and the caller retries
     */
    WriteResult write(List<JobMessage> messages);
}
