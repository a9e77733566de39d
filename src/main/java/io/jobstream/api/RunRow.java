package io.jobstream.api;

/**
 * What the run analysis reads of one stored event (the {@code job_event_index} row): no stdout, no event_data.
 *
 * @param taskUuid     a task start's own uuid, the parent uuid (the task it ran in) of any other event
 * @param play         the play name, on task starts only (empty on the rest)
 * @param task         the task name, on task starts only
 * @param createdMicros the event's {@code created}, microseconds since the epoch
 */
public record RunRow(
        int counter,
        String event,
        String hostName,
        String taskUuid,
        String play,
        String task,
        boolean changed,
        boolean failed,
        long createdMicros) {}
