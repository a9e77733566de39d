package io.jobstream.websocket;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsCloseStatus;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.EventSource;
import io.jobstream.broadcast.Hub;
import io.jobstream.config.Config;
import io.jobstream.event.Json;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.nio.ByteBuffer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AWX's browser websocket ({@code EventConsumer}, reference §4) on {@code /websocket/} and {@code /api/websocket/}:
 * {@code {"accept": true, "user": id}} on connect, the {@code xrftoken} check against the handshake's
 * {@code csrftoken} cookie, and the {@code groups} message that replaces the connection's whole subscription set.
 *
 * <p>Threading: Javalin calls the handlers on Jetty threads, one at a time per connection. Frames go out through each
 * connection's {@link Subscriber}, whose drains this endpoint's two {@code ws-sender} threads start. Ownership: Server
 * creates it, calls {@link #register} while building Javalin, and {@link #close} on stop, which says going-away to
 * every open connection and stops the sender threads. The constructor starts nothing.
 */
public final class WebsocketEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebsocketEndpoint.class);

    public static final List<String> PATHS = List.of("/websocket/", "/api/websocket/");
    static final String CSRF_COOKIE = "csrftoken";
    /** Daphne's protocol ping interval; also keeps Jetty's 30 s idle timeout from closing quiet browsers. */
    private static final long PING_SECONDS = 20;
    /** Pending drain starts: at most one per connection plus closes, so this is far above any real need. */
    private static final int SENDER_QUEUE = 10_000;

    private final Config.WsConfig config;
    private final Hub hub;
    private final WsMetrics metrics;
    private final Function<WsConnectContext, OptionalLong> authenticator;
    private final BiPredicate<Long, Long> jobAccess;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor senders;
    private final EventSource source;
    private final Clock clock;
    private final Subscriber.Policy policy;

    /**
     * Store reads (resume, gaps, catch-up) and delayed gap checks: two threads, so at most two of the pool's
     * connections read for subscribers and the REST side keeps the rest.
     */
    private final ScheduledExecutorService background = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "ws-catchup");
        t.setDaemon(true);
        return t;
    });

    /**
     * Protocol pings come from this endpoint's own daemon thread rather than Javalin's automatic pings, whose
     * non-daemon thread outlives the server and keeps a stopped node's JVM from exiting.
     */
    private final ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ws-ping");
        t.setDaemon(true);
        return t;
    });

    private record Connection(Subscriber subscriber, long userId, String csrfToken, Session session) {}

    /**
     * @param authenticator the handshake's user id, or empty to refuse the connection (closed with 1008)
     * @param jobAccess     whether user (first) may watch the events of job (second)
     */
    public WebsocketEndpoint(Config.WsConfig config, Hub hub, EventSource source, Clock clock, MeterRegistry registry,
            Function<WsConnectContext, OptionalLong> authenticator, BiPredicate<Long, Long> jobAccess) {
        this.config = config;
        this.source = source;
        this.clock = clock;
        this.policy = new Subscriber.Policy(config.outboxCapacity(), config.outboxCapacity(),
                config.gapWait().toMillis(), config.holeWait().toMillis(), config.maxEventRate());
        this.hub = hub;
        this.metrics = new WsMetrics(registry);
        this.authenticator = authenticator;
        this.jobAccess = jobAccess;
        this.senders = senderPool();
        pinger.scheduleAtFixedRate(this::pingAll, PING_SECONDS, PING_SECONDS, TimeUnit.SECONDS);
        Gauge.builder("ws.subscribers", connections, Map::size).description("open browser websocket connections")
                .register(registry);
        Gauge.builder("ws.outbox.depth", connections, WebsocketEndpoint::queuedTotal)
                .description("messages queued for all subscribers of this node").register(registry);
        Gauge.builder("ws.outbox.depth.max", connections, WebsocketEndpoint::queuedMax)
                .description("messages queued for the most backed-up subscriber of this node").register(registry);
    }

    public void register(RoutesConfig routes) {
        for (String path : PATHS) {
            routes.ws(path, ws -> {
                ws.onConnect(this::onConnect);
                ws.onMessage(this::onMessage);
                ws.onClose(this::onClose);
                ws.onError(this::onError);
            });
        }
    }

    /** Open connections, for tests and health. */
    public int connections() {
        return connections.size();
    }

    private void onConnect(WsConnectContext ctx) {
        OptionalLong user = authenticator.apply(ctx);
        if (user.isEmpty()) {
            metrics.disconnected("unauthenticated");
            ctx.closeSession(WsCloseStatus.POLICY_VIOLATION, "authentication required");
            return;
        }
        Subscriber subscriber = new Subscriber(new JettyFrameSender(ctx.session), policy, senders,
                new Subscriber.Background() {
                    @Override
                    public void execute(Runnable task) {
                        background.execute(task);
                    }

                    @Override
                    public void schedule(Runnable task, long delayMillis) {
                        background.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
                    }
                }, source, hub, metrics, clock);
        connections.put(ctx.sessionId(),
                new Connection(subscriber, user.getAsLong(), ctx.cookie(CSRF_COOKIE), ctx.session));
        subscriber.reply(Replies.accept(user.getAsLong()));
    }

    private void onMessage(WsMessageContext ctx) {
        Connection connection = connections.get(ctx.sessionId());
        if (connection == null) return;
        JsonNode message;
        try {
            message = Json.MAPPER.readTree(ctx.message());
        } catch (JsonProcessingException e) {
            message = null;
        }
        if (message == null || !message.isObject()) {
            metrics.rejected("malformed");
            connection.subscriber().reply(Replies.MALFORMED);
            return;
        }
        if (!tokenMatches(connection.csrfToken(), message.get("xrftoken"))) {
            metrics.rejected("xrftoken");
            connection.subscriber().reply(Replies.ACCESS_DENIED);
            return;
        }
        JsonNode batch = message.get("batch");
        if (batch != null && batch.isBoolean()) connection.subscriber().batch(batch.booleanValue());
        JsonNode groups = message.get("groups");
        // anything else is accepted silently, as AWX does
        if (groups != null) subscribe(connection, groups, message.get("resume"));
    }

    /**
     * AWX's subscribe: {@code {"name": [v1, v2]}} means groups {@code name-v1}, {@code name-v2}. A value that is not
     * a list refuses the whole message. Unlike AWX, which at that point has already forgotten the connection's groups
     * while staying in them, the current subscriptions are simply kept.
     */
    private void subscribe(Connection connection, JsonNode groups, JsonNode resumeOrNull) {
        Subscriber subscriber = connection.subscriber();
        if (!groups.isObject()) {
            subscriber.reply(Replies.ACCESS_DENIED);
            return;
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (Map.Entry<String, JsonNode> entry : groups.properties()) {
            String name = entry.getKey();
            if (!entry.getValue().isArray()) {
                subscriber.reply(Replies.ACCESS_DENIED);
                return;
            }
            for (JsonNode value : entry.getValue()) {
                String id = groupValue(value);
                if (EventMessages.JOB_EVENTS.equals(name) && !mayWatch(connection.userId(), value)) {
                    subscriber.reply(Replies.deniedResource(name, id));
                    continue;
                }
                wanted.add(name + "-" + id);
            }
        }
        Map<Long, Integer> resume = resumeOrNull == null ? Map.of() : resume(resumeOrNull, wanted);
        if (resume == null) {
            metrics.rejected("resume");
            subscriber.reply(Replies.error("malformed resume"));
            return;
        }
        subscriber.subscribe(wanted, resume);
    }

    /**
     * Our extension: {@code "resume": {"<job id>": <last counter seen>}}; entries for jobs not in {@code wanted}
     * (including ones the user may not watch, already refused) are ignored. Null when it is not such an object.
     */
    private static Map<Long, Integer> resume(JsonNode resume, Set<String> wanted) {
        if (!resume.isObject()) return null;
        Map<Long, Integer> counters = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : resume.properties()) {
            JsonNode last = entry.getValue();
            if (!entry.getKey().matches("[0-9]{1,18}") || !last.canConvertToInt() || !last.isIntegralNumber()
                    || last.intValue() < 0) {
                return null;
            }
            long job = Long.parseLong(entry.getKey());
            if (wanted.contains(EventMessages.jobEventsGroup(job))) counters.put(job, last.intValue());
        }
        return counters;
    }

    /** One connection as {@code ./jobstream stats} shows it. */
    public record SubscriberStats(long user, String remote, List<String> groups, int queued, List<Long> catchingUp) {}

    /** The {@code limit} most backed-up connections (by messages queued), for stats: who is slow, and on what. */
    public List<SubscriberStats> subscribers(int limit) {
        return connections.values().stream()
                .map(c -> new SubscriberStats(c.userId(), String.valueOf(c.session().getRemoteSocketAddress()),
                        c.subscriber().groups().stream().sorted().toList(), c.subscriber().queued(),
                        c.subscriber().catchingUp()))
                .sorted(Comparator.comparingInt(SubscriberStats::queued).reversed())
                .limit(limit)
                .toList();
    }

    private static double queuedTotal(Map<String, Connection> connections) {
        long total = 0;
        for (Connection c : connections.values()) total += c.subscriber().queued();
        return total;
    }

    private static double queuedMax(Map<String, Connection> connections) {
        int max = 0;
        for (Connection c : connections.values()) max = Math.max(max, c.subscriber().queued());
        return max;
    }

    private boolean mayWatch(long userId, JsonNode jobId) {
        long id;
        if (jobId.canConvertToExactIntegral() && jobId.canConvertToLong()) {
            id = jobId.longValue();
        } else if (jobId.isTextual() && jobId.asText().matches("[0-9]{1,18}")) {
            id = Long.parseLong(jobId.asText());
        } else {
            return false; // not a job id, so no job this user may see
        }
        return jobAccess.test(userId, id);
    }

    /** How Python's {@code '{}-{}'.format(name, value)} renders the common cases: strings bare, numbers as written. */
    private static String groupValue(JsonNode value) {
        return value.isTextual() || value.isIntegralNumber() ? value.asText() : value.toString();
    }

    private static boolean tokenMatches(String cookie, JsonNode token) {
        if (cookie == null || cookie.isEmpty() || token == null || !token.isTextual()) return false;
        // constant time, as Django compares CSRF tokens
        return MessageDigest.isEqual(cookie.getBytes(StandardCharsets.UTF_8),
                token.asText().getBytes(StandardCharsets.UTF_8));
    }

    private void onClose(WsCloseContext ctx) {
        Connection connection = connections.remove(ctx.sessionId());
        if (connection != null) connection.subscriber().close("closed");
    }

    private void onError(WsErrorContext ctx) {
        // Jetty closes the connection after this; onClose does the cleanup
        log.debug("websocket error on session {}: {}", ctx.sessionId(), String.valueOf(ctx.error()));
    }

    private void pingAll() {
        for (Connection c : connections.values()) {
            if (c.session().isOpen()) c.session().sendPing(ByteBuffer.allocate(0), Callback.NOOP);
        }
    }

    /** Tells every open connection the server is going away and stops the sender threads; idempotent. */
    @Override
    public void close() {
        pinger.shutdownNow();
        for (Connection connection : connections.values()) {
            if (connection.subscriber().close("server_stop")) {
                connection.subscriber().closeTransport(WsCloseStatus.GOING_AWAY.getCode(), "server stopping");
            }
        }
        connections.clear();
        senders.shutdown();
        background.shutdownNow();
    }

    private static ThreadPoolExecutor senderPool() {
        AtomicInteger threads = new AtomicInteger();
        // threads start lazily, on the first connection; a full queue runs the start on the caller, which only
        // costs a non-blocking Jetty write there rather than losing a drain and stalling a connection
        return new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(SENDER_QUEUE), r -> {
            Thread t = new Thread(r, "ws-sender-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    }
}
