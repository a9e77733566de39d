package io.jobstream.queue;

import io.jobstream.event.JobMessage;
import java.util.Objects;

/** A message in the queue together with whom to tell once it is committed. */
public record Envelope(JobMessage message, Receipt receipt) {
    public Envelope {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(receipt, "receipt");
    }
}
