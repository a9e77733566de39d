package io.jobstream.broadcast;

/**
 * Something subscribed to groups of the {@link Hub}: in practice one websocket connection.
 *
 * <p>Called on the delivering thread (the receiver's), so an implementation must only enqueue, never wait.
 */
public interface GroupMember {
    /**
     * Takes a frame delivered to {@code group}, which the member shares with every other member of that group.
     *
     * @return false only when this frame did not fit, i.e. the member is over capacity and is dropping out as a slow
     *     consumer; a member that is already closing returns true and ignores the frame
     */
    boolean offer(String group, String frame);

    /**
     * Takes a job event's frame; a member that sequences events per job overrides this (the websocket subscriber).
     * The same frame may come more than once and out of counter order (redelivery, several emitters, a cluster
     * relay); the member is what makes its client's stream exactly-once and in order.
     *
     * @return false only when this frame did not fit and the member fell behind (see {@link #offer})
     */
    default boolean offerEvent(String group, EventFrame frame) {
        return offer(group, frame.text());
    }

    /**
     * The job of this events group has ended: its EOF committed with {@code finalCounter} as its last counter. A member
     * that sequences events checks that it has them all: the live frames of a job's last events can be lost on the
     * way (a cluster relay), and no later frame would show the gap.
     */
    default void jobEnded(String group, long jobId, int finalCounter) {}

    /**
     * Frames of this job may have been missed: a cluster node began receiving the job's relayed events just now (its
     * first subscriber here, or again after a Redis outage). A member that sequences events compares with the store.
     */
    default void recheck(String group, long jobId) {}
}
