package io.jobstream.api;

import java.util.List;
import java.util.Optional;

/** Reads job rows for the API. Implementations are thread-safe; every method may throw {@link ReadException}. */
public interface JobReader {
    Optional<JobView> find(long id);

    /**
     * Jobs newest first (highest id first).
     *
     * @param statuses  keep only jobs in one of these statuses; empty keeps all
     * @param visibleTo keep only the jobs this user owns or sees through a team; null keeps all (admins)
     */
    Page<JobView> list(List<String> statuses, Long visibleTo, long offset, int limit, boolean withCount);
}
