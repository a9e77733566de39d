package io.jobstream.api;

import java.util.Optional;

/** Reads stored job events for the API. Implementations are thread-safe; every method may throw {@link ReadException}. */
public interface EventReader {
    /** One job's events matching the query, in its order; the count only when {@link EventQuery#withCount()}. */
    Page<EventRow> list(long jobId, EventQuery query);

    /** One event by its row id, stdout whole. */
    Optional<EventRow> find(long eventId);

    /**
     * Visits the shape of one job's event tree in counter order, without holding the job's events in memory.
     * Stops early when the visitor returns false.
     */
    void visitTree(long jobId, TreeVisitor visitor);

    @FunctionalInterface
    interface TreeVisitor {
        /** @return false to stop the walk */
        boolean visit(int counter, String uuid, String parentUuid, String event);
    }
}
