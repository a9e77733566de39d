package io.jobstream.websocket;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import org.eclipse.jetty.websocket.api.Session;

/**
 * This node's open websocket connections, by session id, and how many each user has open
 * ({@code ws.max-connections-per-user}; server-sent-events streams count too, through {@link #admit} and
 * {@link #release} only). A user's count goes with its last connection, and so does what the endpoint
 * keeps per user ({@code lastClosed}).
 *
 * <p>Threading: thread-safe. Jetty threads add and remove connections, the {@code ws-revalidate} and {@code ws-ping}
 * threads and the gauges iterate. A connection is counted ({@link #admit}) before it is added and released
 * ({@link #release}) after it is removed; the two steps are the caller's, so that it can close the subscriber in
 * between. Ownership: the {@link WebsocketEndpoint}, which clears it on close.
 */
final class Connections {
    /** One open connection: its subscriber, who it is, and what its handshake carried. */
    record Connection(
            Subscriber subscriber,
            WsIdentity identity,
            String csrfToken,
            Session session,
            MessageRate rate,
            Refusals.Count refusals,
            OutboxBytes.Account bytes,
            String remote) {
        long userId() {
            return identity.userId();
        }
    }

    private final int maxPerUser;
    private final LongConsumer lastClosed;
    private final Map<String, Connection> bySession = new ConcurrentHashMap<>();
    /** Open connections per user id; entries go when they reach 0. */
    private final Map<Long, Integer> perUser = new ConcurrentHashMap<>();

    /**
     * @param maxPerUser most open connections per user; 0 or less for no limit
     * @param lastClosed called with a user id when its last connection is released, while no new one of that user can
     *                   be counted (so per-user state dropped there is not dropped under a new connection)
     */
    Connections(int maxPerUser, LongConsumer lastClosed) {
        this.maxPerUser = maxPerUser;
        this.lastClosed = lastClosed;
    }

    /** At most this many open connections per user; 0 or less for no limit. */
    int maxPerUser() {
        return maxPerUser;
    }

    /** Counts one more connection of the user, unless that would exceed the limit. */
    boolean admit(long userId) {
        boolean[] admitted = {false};
        perUser.compute(userId, (k, open) -> {
            int n = open == null ? 0 : open;
            if (maxPerUser > 0 && n >= maxPerUser) return open;
            admitted[0] = true;
            return n + 1;
        });
        return admitted[0];
    }

    /** Counts one connection of the user less: the reverse of {@link #admit}. */
    void release(long userId) {
        perUser.computeIfPresent(userId, (k, open) -> {
            if (open > 1) return open - 1;
            lastClosed.accept(userId);
            return null;
        });
    }

    void put(String sessionId, Connection connection) {
        bySession.put(sessionId, connection);
    }

    /** The open connection of a session, or null (never opened, or closed already). */
    Connection get(String sessionId) {
        return bySession.get(sessionId);
    }

    Connection remove(String sessionId) {
        return bySession.remove(sessionId);
    }

    /** Removes the session's connection only if it is still {@code connection}; false when someone else did. */
    boolean remove(String sessionId, Connection connection) {
        return bySession.remove(sessionId, connection);
    }

    Collection<Connection> all() {
        return Collections.unmodifiableCollection(bySession.values());
    }

    Set<Map.Entry<String, Connection>> bySession() {
        return Collections.unmodifiableMap(bySession).entrySet();
    }

    int size() {
        return bySession.size();
    }

    /** Messages queued for all open connections (the {@code ws.outbox.depth} gauge). */
    double queuedTotal() {
        long total = 0;
        for (Connection c : bySession.values()) total += c.subscriber().queued();
        return total;
    }

    /** Messages queued for the most backed-up connection (the {@code ws.outbox.depth.max} gauge). */
    double queuedMax() {
        int max = 0;
        for (Connection c : bySession.values())
            max = Math.max(max, c.subscriber().queued());
        return max;
    }

    /** Forgets every connection and count (the endpoint closed them). */
    void clear() {
        bySession.clear();
        perUser.clear();
    }
}
