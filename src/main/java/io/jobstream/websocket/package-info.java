/**
 * Websocket stage: AWX's browser protocol on {@code /websocket/} and {@code /api/websocket/} (reference §4). Owns
 * the connections, one {@link io.jobstream.websocket.Subscriber} each with a bounded outbox, and the sender pool.
 * Joins groups of the broadcast {@link io.jobstream.broadcast.Hub}; never blocks the thread that delivers to it,
 * and never reads the database.
 */
package io.jobstream.websocket;
