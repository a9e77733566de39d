package io.jobstream.api;

import io.jobstream.event.Timestamps;
import java.time.Instant;

/**
 * One row of the job table as the API shows it.
 *
 * @param hostStatusCounts raw JSON text, or null until the job's wrap-up
 * @param finalCounter     null until the emitter's EOF arrived
 * @param lastLagMs        commit lag of the job's last committed batch, null before any event
 * @param eventsExpired    retention deleted the job's events; the row and its counts stay
 */
public record JobView(
        long id,
        String name,
        String playbook,
        String status,
        boolean failed,
        Instant created,
        Instant modified,
        Instant started,
        Instant finished,
        String jobExplanation,
        int emittedEvents,
        Integer finalCounter,
        int storedEvents,
        boolean eventProcessingFinished,
        String hostStatusCounts,
        int playCount,
        int taskCount,
        Instant lastEventCreated,
        Double lastLagMs,
        boolean eventsExpired) {

    /** AWX's {@code elapsed}: seconds from start to finish, 0 while the job has not finished. */
    public double elapsedSeconds() {
        if (started == null || finished == null) return 0.0;
        long micros = Timestamps.micros(finished) - Timestamps.micros(started); // no toNanos: overflows past 292 years
        return Math.max(0, micros) / 1_000_000.0;
    }
}
