package io.jobstream.event;

/**
 * What a committed batch changed about a job, for the {@code jobs} websocket messages.
 *
 * @param status         the job's new status when this batch changed it, else null
 * @param finalCounter   the EOF's final counter when this batch stored it, else null
 * @param eventsFinished true when this batch completed the job's events (every counter up to final_counter)
 */
public record JobChange(long jobId, String status, Integer finalCounter, boolean eventsFinished) {}
