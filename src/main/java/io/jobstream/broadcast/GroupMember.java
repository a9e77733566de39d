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
}
