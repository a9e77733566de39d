/**
 * Live delivery stage: AWX's browser websocket on {@code /websocket/} and {@code /api/websocket/} (reference §4), and
 * the same subscribers behind server-sent events ({@link io.jobstream.websocket.EventStreamEndpoint}, SPEC §12). Owns
 * the open {@link io.jobstream.websocket.Connections}, one {@link io.jobstream.websocket.Subscriber} each (a
 * {@link io.jobstream.websocket.JobFeed} per watched job, one bounded {@link io.jobstream.websocket.Outbox}), the
 * sender pool and the ping, heartbeat and re-check threads. Joins groups of the broadcast
 * {@link io.jobstream.broadcast.Hub}; never blocks the thread that delivers to it, and never touches the database
 * itself (store reads go through broadcast's EventSource and the api's JobReader).
 */
package io.jobstream.websocket;
