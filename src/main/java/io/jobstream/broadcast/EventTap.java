package io.jobstream.broadcast;

import java.util.List;

/**
 * Sees every run of a job's live event frames the {@link Hub} hands to that job's subscribers on this node (only jobs
 * someone here watches), on the delivering thread, after the members got them (so that a member that fell behind on
 * the run can ask for it first). It must not block or keep the list (the caller reuses it); the frames themselves are
 * immutable and may be kept.
 */
@FunctionalInterface
public interface EventTap {
    EventTap NONE = frames -> {};

    void delivered(List<EventFrame> frames);
}
