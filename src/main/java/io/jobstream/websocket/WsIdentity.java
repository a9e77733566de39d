package io.jobstream.websocket;

import java.util.function.BooleanSupplier;

/**
 * Who opened a websocket, as the handshake's credentials proved it, and how to ask later whether they still do.
 *
 * @param userId  the user whose connection limit and job access apply
 * @param revoked true once the handshake's credentials no longer authenticate this user (logged out, session
 *                expired, token deleted, password changed); false when that cannot be told right now (user store
 *                unreachable), so an outage never disconnects anyone. Called off Jetty's threads; may query a store.
 */
public record WsIdentity(long userId, BooleanSupplier revoked) {
    /** A user whose credentials are never withdrawn (tests and benchmarks without a user store). */
    public static WsIdentity permanent(long userId) {
        return new WsIdentity(userId, () -> false);
    }
}
