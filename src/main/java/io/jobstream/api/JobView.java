package io.jobstream.api;

import io.jobstream.event.Timestamps;
import java.time.Instant;
import java.util.Set;

/**
 * One row of the job table as the API shows it.
 *
 * @param hostStatusCounts raw JSON text, or null until the job's wrap-up
 * @param finalCounter     null until the emitter's EOF arrived
 * @param lastLagMs        commit lag of the job's last committed batch, null before any event
 * @param capture          the capture level its events are taken at: full, no_event_data or summary
 * @param captureDroppedEvents events that lost stdout or event_data to the level (counted once committed)
 * @param captureDroppedBytes  the UTF-8 bytes of stdout and event_data not stored because of the level
 * @param eventsExpired    retention deleted the job's events; the row and its counts stay
 * @param executionNode    the node that runs or ran a launched job; empty for jobs first seen through ingest
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
        String capture,
        long captureDroppedEvents,
        long captureDroppedBytes,
        boolean eventsExpired,
        String executionNode) {

    /** AWX's active states: a job in one of them has no final tally of events yet. */
    private static final Set<String> ACTIVE = Set.of("pending", "waiting", "running");

    /**
     * AWX's {@code event_processing_finished}: every event stored and the job no longer pending, waiting or running. A
     * launched job's EOF is stored a moment before its final status; AWX's clients read this flag as "done" and take
     * the status they read with it ({@code awx jobs monitor} returned {@code running}).
     */
    public boolean awxEventProcessingFinished() {
        return eventProcessingFinished && !ACTIVE.contains(status);
    }

    /** AWX's {@code elapsed}: seconds from start to finish, 0 while the job has not finished. */
    public double elapsedSeconds() {
        if (started == null || finished == null) return 0.0;
        long micros = Timestamps.micros(finished) - Timestamps.micros(started); // no toNanos: overflows past 292 years
        return Math.max(0, micros) / 1_000_000.0;
    }
}
