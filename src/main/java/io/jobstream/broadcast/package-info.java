/**
 * Broadcast stage: carries committed events and job status changes to subscribers.
 * {@link io.jobstream.broadcast.Broadcaster} crosses nodes (memory: this node only), {@link io.jobstream.broadcast.Hub}
 * fans out to this node's members. Frames are serialised once per event here, never per subscriber. Owns no sockets:
 * it defines {@link io.jobstream.broadcast.GroupMember}, which the websocket stage implements, so this package never
 * imports {@code websocket}, and it never blocks the caller.
 */
package io.jobstream.broadcast;
