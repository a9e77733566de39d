package io.jobstream.api;

import java.util.Optional;

/** Reads job rows for the API. Implementations are thread-safe; every method may throw {@link ReadException}. */
public interface JobReader {
    Optional<JobView> find(long id);

    /**
     * The jobs the query keeps, in its order (ties broken by id, in the same direction).
     *
     * @param visibleTo keep only the jobs this user owns or sees through a team; null keeps all (admins)
     */
    Page<JobView> list(JobQuery query, Long visibleTo, long offset, int limit, boolean withCount);
}
