package io.jobstream.queue;

import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import java.util.Objects;

/** A message in the queue together with whom to tell once it is committed. */
public record Envelope(JobMessage message, Receipt receipt) {
    public Envelope {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(receipt, "receipt");
    }

    /** Heap an event roughly takes while queued: its large strings plus a fixed overhead for the rest. */
    public long estimatedBytes() {
        if (message instanceof JobEvent e)
            return 512L + 2L * (e.stdout().length() + e.eventData().length());
        return 64;
    }
}
