package io.jobstream.event;

import java.time.Instant;

/** An event as committed: its row id and the commit time (AWX's {@code modified}). */
public record StoredEvent(long id, JobEvent event, Instant modified) {}
