package io.jobstream.api;

import java.util.List;

/**
 * Events across jobs, newest first ((job id, counter) descending), for {@code GET /api/v2/job_events/}.
 * Implementations answer from an index, never by reading every job, and never count. Thread-safe; may throw
 * {@link ReadException}.
 */
public interface EventSearch {
    /**
     * @param visibleTo only jobs this user may see (owned or shared with a team); null for every job (admins)
     * @param before    keyset: only events before this (job id, counter); null from the newest
     */
    Result search(Criteria criteria, Long visibleTo, Position before, int limit);

    /**
     * @param rows the page's events
     * @param next where the next page starts, null when the index had no more: taken from the index, not from the
     *             rows, so an event whose row is gone (retention) shortens a page without ending the search
     */
    record Result(List<EventRow> rows, Position next) {}

    /** Null fields do not filter. */
    record Criteria(String hostName, Boolean changed, Boolean failed, String event) {}

    record Position(long jobId, int counter) {}
}
