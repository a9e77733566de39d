package io.jobstream.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.config.Config;
import io.jobstream.websocket.Connections.Connection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a browser sends on its websocket, and the limits on it: AWX's subscribe message (the {@code xrftoken} check
 * against the handshake's {@code csrftoken} cookie, {@code groups} replacing the connection's whole set) with our
 * {@code batch} and {@code resume}, read by {@link SubscribeParser} and applied to the connection's {@link Subscriber}.
 * The limits: messages per second per connection ({@code ws.max-message-rate}), groups per subscribe
 * ({@code ws.max-subscriptions}) and jobs named per second per user ({@code ws.max-subscribes-per-user}). A refusal is
 * an error reply in AWX's words and counted; nothing here closes a connection.
 *
 * <p>Threading: Jetty threads, one message at a time per connection; the per-user rates are shared by a user's
 * connections and thread-safe. Ownership: the {@link WebsocketEndpoint}, which calls {@link #forget} when a user's last
 * connection goes. A subscribe asks the store (through {@link JobSight} and the subscriber) on the calling thread.
 */
final class ClientMessages {
    private final Config.WsLimits limits;
    private final SubscribeParser parser;
    private final JobSight sight;
    private final WsMetrics metrics;
    /**
     * Subscribe messages per user ({@code ws.max-subscribes-per-user}), over all its connections: each costs store
     * queries, and the per-connection message rate times 100 connections is still a lot. Entries go with the user's
     * last connection.
     */
    private final Map<Long, MessageRate> subscribesPerUser = new ConcurrentHashMap<>();

    /** @param sight which jobs a user may watch, asked once per subscribe message (all its jobs) */
    ClientMessages(Config.WsLimits limits, JobSight sight, WsMetrics metrics) {
        this.limits = limits;
        this.parser = new SubscribeParser(limits.maxJsonDepth());
        this.sight = sight;
        this.metrics = metrics;
    }

    /** The message limit of a new connection ({@code ws.max-message-rate}), kept with it in {@link Connection}. */
    MessageRate connectionRate() {
        return new MessageRate(limits.maxMessageRate(), System::nanoTime, refused -> metrics.rejected("rate"));
    }

    /** Forgets the user's subscribe rate: its last connection is gone. */
    void forget(long userId) {
        subscribesPerUser.remove(userId);
    }

    /** A text message of the connection: rate, parse, {@code xrftoken}, then {@code batch} and {@code groups}. */
    void onText(Connection connection, String text) {
        Subscriber subscriber = connection.subscriber();
        if (!connection.rate().admit()) {
            subscriber.reply(Replies.error("too many messages: at most " + limits.maxMessageRate()
                    + " per second (ws.max-message-rate); this one was ignored"));
            return;
        }
        SubscribeParser.Read read = parser.read(text);
        if (read.message() == null) {
            metrics.rejected(read.rejected());
            subscriber.reply(Replies.MALFORMED);
            return;
        }
        JsonNode message = read.message();
        if (!tokenMatches(connection.csrfToken(), message.get("xrftoken"))) {
            metrics.rejected("xrftoken");
            subscriber.reply(Replies.ACCESS_DENIED);
            return;
        }
        JsonNode batch = message.get("batch");
        if (batch != null && batch.isBoolean()) subscriber.batch(batch.booleanValue());
        JsonNode groups = message.get("groups");
        // anything else is accepted silently, as AWX does
        if (groups != null) subscribe(connection, groups, message.get("resume"));
    }

    /** A binary frame: AWX's protocol is JSON text only. Answered, counted, and otherwise ignored. */
    void onBinary(Connection connection) {
        metrics.rejected("binary");
        connection.subscriber().reply(Replies.MALFORMED);
    }

    /** Whether the user may subscribe to {@code jobs} more jobs now: their cost (checks, reads, hub changes) grows with the jobs. */
    private boolean admitSubscribe(long userId, int jobs) {
        int max = limits.maxSubscribesPerUser();
        if (max <= 0) return true;
        MessageRate rate = subscribesPerUser.computeIfAbsent(
                userId, k -> new MessageRate(max, System::nanoTime, refused -> metrics.rejected("subscribe_rate")));
        return rate.admit(jobs);
    }

    /**
     * AWX's subscribe: the message's groups replace the connection's whole set. A value that is not a list refuses
     * the whole message, and so (our limit) does asking for more than {@code ws.max-subscriptions} groups. Unlike
     * AWX, which at that point has already forgotten the connection's groups while staying in them, the current
     * subscriptions are simply kept.
     */
    private void subscribe(Connection connection, JsonNode groupsNode, JsonNode resumeOrNull) {
        Subscriber subscriber = connection.subscriber();
        List<SubscribeParser.Group> groups = SubscribeParser.groups(groupsNode);
        if (groups == null) {
            metrics.rejected("groups");
            subscriber.reply(Replies.ACCESS_DENIED);
            return;
        }
        int max = limits.maxSubscriptions();
        if (groups.size() > max) { // before any access check: each may cost a database read
            metrics.rejected("too_many_groups");
            subscriber.reply(Replies.error("too many groups: " + groups.size() + ", at most " + max
                    + " per connection (ws.max-subscriptions); subscriptions unchanged"));
            return;
        }
        Set<Long> jobs = new LinkedHashSet<>();
        for (SubscribeParser.Group group : groups) {
            if (group.isJobEvents() && group.jobId().isPresent())
                jobs.add(group.jobId().getAsLong());
        }
        // what costs is the jobs a message names (an access check, a position read, hub changes, replies): they
        // count against the user's rate, so one message of 100 jobs weighs as much as 100 messages of one
        if (!jobs.isEmpty() && !admitSubscribe(connection.userId(), jobs.size())) {
            subscriber.reply(Replies.error("too many job subscriptions: at most "
                    + limits.maxSubscribesPerUser() + " jobs named per second per user"
                    + " (ws.max-subscribes-per-user); subscriptions unchanged"));
            return;
        }
        Set<Long> visible = jobs.isEmpty() ? Set.of() : sight.visible(connection.userId(), jobs); // one query
        Set<String> wanted = new LinkedHashSet<>();
        for (SubscribeParser.Group group : groups) {
            if (group.isJobEvents() && !mayWatch(visible, group)) {
                metrics.rejected("access_denied");
                subscriber.reply(Replies.deniedResource(group.name(), group.id()));
                continue;
            }
            wanted.add(group.key());
        }
        Map<Long, Integer> resume = SubscribeParser.resume(resumeOrNull, wanted);
        if (resume == null) {
            metrics.rejected("resume");
            subscriber.reply(Replies.error("malformed resume"));
            return;
        }
        subscriber.subscribe(wanted, resume);
    }

    private static boolean mayWatch(Set<Long> visible, SubscribeParser.Group group) {
        OptionalLong job = group.jobId();
        return job.isPresent() && visible.contains(job.getAsLong());
    }

    private static boolean tokenMatches(String cookie, JsonNode token) {
        if (cookie == null || cookie.isEmpty() || token == null || !token.isTextual()) return false;
        // constant time, as Django compares CSRF tokens
        return MessageDigest.isEqual(
                cookie.getBytes(StandardCharsets.UTF_8), token.asText().getBytes(StandardCharsets.UTF_8));
    }
}
