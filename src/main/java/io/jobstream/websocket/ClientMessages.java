package io.jobstream.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.websocket.WsCloseStatus;
import io.jobstream.config.Config;
import io.jobstream.websocket.Connections.Connection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a browser sends on its websocket, and the limits on it: AWX's subscribe message (the {@code xrftoken} check
 * against the handshake's {@code csrftoken} cookie, {@code groups} replacing the connection's whole set) with our
 * {@code batch} and {@code resume}, read by {@link SubscribeParser} and applied to the connection's {@link Subscriber}.
 * The limits: messages per second per connection ({@code ws.max-message-rate}), groups per subscribe
 * ({@code ws.max-subscriptions}) and jobs named per second per user ({@code ws.max-subscribes-per-user}). A refusal is
 * an error reply in AWX's words and counted, and costs no store read: every limit is applied before the one query a
 * subscribe makes. Refusals also count against the connection ({@link Refusals}): one more than
 * {@code ws.max-refused-messages} in 10 s closes it with 1008 instead of a reply, and from then on its messages are
 * dropped unread, so a client that is only ever refused cannot keep buying the node's CPU.
 *
 * <p>Threading: Jetty threads, one message at a time per connection; the per-user rates are shared by a user's
 * connections and thread-safe. Ownership: the {@link WebsocketEndpoint}, which calls {@link #forget} when a user's last
 * connection goes. A subscribe asks the store (through {@link JobSight} and the subscriber) on the calling thread.
 */
final class ClientMessages {
    private static final Logger log = LoggerFactory.getLogger(ClientMessages.class);
    /** ws.disconnects reason of a connection closed for {@code ws.max-refused-messages}. */
    static final String REFUSED_MESSAGES = "refused_messages";

    private final Config.WsLimits limits;
    private final Refusals refusals;
    /** The replies to the refusals a flood repeats, built once: a refusal costs no JSON building. */
    private final String rateReply;

    private final String subscribeRateReply;
    private final String refusedClose;
    private final SubscribeParser parser;
    private final JobSight sight;
    private final WsMetrics metrics;
    /**
     * Subscribe messages per user ({@code ws.max-subscribes-per-user}), over all its connections: each costs store
     * queries, and the per-connection message rate times 100 connections is still a lot. Entries go with the user's
     * last connection.
     */
    private final Map<Long, MessageRate> subscribesPerUser = new ConcurrentHashMap<>();

    /**
     * @param sight    which jobs a user may watch, asked once per subscribe message (all its jobs)
     * @param refusals counts each connection's refusals and blocks the users of those closed for them
     */
    ClientMessages(Config.WsLimits limits, JobSight sight, WsMetrics metrics, Refusals refusals) {
        this.limits = limits;
        this.refusals = refusals;
        this.rateReply = Replies.error("too many messages: at most " + limits.maxMessageRate()
                + " per second (ws.max-message-rate); this one was ignored");
        this.subscribeRateReply = Replies.error("too many job subscriptions: at most " + limits.maxSubscribesPerUser()
                + " jobs named per second per user (ws.max-subscribes-per-user); subscriptions unchanged");
        // a close reason must fit 123 bytes
        this.refusedClose = "too many refused messages: over " + refusals.max() + " in "
                + Config.WsLimits.REFUSED_WINDOW.toSeconds() + " s (ws.max-refused-messages)";
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
        if (subscriber.closeReason() != null) return; // closing (for refusals, say): nothing more is read
        if (!connection.rate().admit()) {
            refuse(connection, rateReply); // counted by the rate
            return;
        }
        SubscribeParser.Read read = parser.read(text);
        if (read.message() == null) {
            metrics.rejected(read.rejected());
            refuse(connection, Replies.MALFORMED);
            return;
        }
        JsonNode message = read.message();
        if (!tokenMatches(connection.csrfToken(), message.get("xrftoken"))) {
            metrics.rejected("xrftoken");
            refuse(connection, Replies.ACCESS_DENIED);
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
        if (connection.subscriber().closeReason() != null) return;
        metrics.rejected("binary");
        refuse(connection, Replies.MALFORMED);
    }

    /**
     * Counts a refused message against its connection, then sends {@code reply}; or, when that was one refusal too
     * many ({@code ws.max-refused-messages}), closes the connection (1008) instead and refuses its user's new ones for
     * {@code ws.refused-block}.
     */
    private void refuse(Connection connection, String reply) {
        if (connection.refusals().refuse()) {
            closeForRefusals(connection);
        } else {
            connection.subscriber().reply(reply);
        }
    }

    private void closeForRefusals(Connection connection) {
        Subscriber subscriber = connection.subscriber();
        if (subscriber.close(REFUSED_MESSAGES)) { // counted in ws.disconnects; once per connection
            refusals.block(connection.userId(), connection.refusals());
            log.info(
                    "closing a websocket of user {} from {}: {}",
                    connection.userId(),
                    connection.remote(),
                    refusedClose);
            subscriber.closeTransport(WsCloseStatus.POLICY_VIOLATION.getCode(), refusedClose);
        }
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
            refuse(connection, Replies.ACCESS_DENIED);
            return;
        }
        int max = limits.maxSubscriptions();
        if (groups.size() > max) { // before any access check: each may cost a database read
            metrics.rejected("too_many_groups");
            refuse(
                    connection,
                    Replies.error("too many groups: " + groups.size() + ", at most " + max
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
            refuse(connection, subscribeRateReply); // counted by the rate
            return;
        }
        Set<Long> visible = jobs.isEmpty() ? Set.of() : sight.visible(connection.userId(), jobs); // one query
        Set<String> wanted = new LinkedHashSet<>();
        List<SubscribeParser.Group> denied = new ArrayList<>();
        for (SubscribeParser.Group group : groups) {
            if (group.isJobEvents() && !mayWatch(visible, group)) {
                denied.add(group);
                continue;
            }
            wanted.add(group.key());
        }
        if (!denied.isEmpty()) {
            // one refusal per message, whatever it names: a page naming a job deleted meanwhile is not a flood
            for (int i = 0; i < denied.size(); i++) metrics.rejected("access_denied");
            if (connection.refusals().refuse()) {
                closeForRefusals(connection);
                return;
            }
            for (SubscribeParser.Group group : denied)
                subscriber.reply(Replies.deniedResource(group.name(), group.id()));
        }
        Map<Long, Integer> resume = SubscribeParser.resume(resumeOrNull, wanted);
        if (resume == null) {
            metrics.rejected("resume");
            refuse(connection, Replies.error("malformed resume"));
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
