package io.jobstream.websocket;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * Which of some jobs a user may watch: asked once for all the jobs of a subscribe message, and once per connection
 * when open connections are checked again, so that a message naming 100 jobs costs one query rather than 100.
 * Implementations are thread-safe and may block on the store.
 */
@FunctionalInterface
public interface JobSight {
    /** The subset of {@code jobIds} that {@code userId} may watch. */
    Set<Long> visible(long userId, Collection<Long> jobIds);

    /**
     * As {@link #visible}, for filtering what the node sends on its own (the {@code jobs} group's status messages):
     * a job left out there is not a request the user made, so implementations that count denials do not count it.
     */
    default Set<Long> filter(long userId, Collection<Long> jobIds) {
        return visible(userId, jobIds);
    }

    /** One check per job (tests and benchmarks with a predicate). */
    static JobSight each(BiPredicate<Long, Long> mayView) {
        return (user, jobs) -> {
            Set<Long> visible = new HashSet<>();
            for (Long job : jobs) if (mayView.test(user, job)) visible.add(job);
            return visible;
        };
    }
}
