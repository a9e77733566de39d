package io.jobstream.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.JettyConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.websocket.WsBinaryMessageContext;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsCloseStatus;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import io.jobstream.auth.Access;
import io.jobstream.broadcast.EventSource;
import io.jobstream.broadcast.Hub;
import io.jobstream.config.Config;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Watermark;
import io.jobstream.websocket.Connections.Connection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.exceptions.BadPayloadException;
import org.eclipse.jetty.websocket.api.exceptions.MessageTooLargeException;
import org.eclipse.jetty.websocket.api.exceptions.ProtocolException;
import org.eclipse.jetty.websocket.api.exceptions.WebSocketTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AWX's browser websocket ({@code EventConsumer}, reference §4) on {@code /websocket/} and {@code /api/websocket/}:
 * {@code {"accept": true, "user": id}} on connect, the {@code xrftoken} check against the handshake's
 * {@code csrftoken} cookie, and the {@code groups} message that replaces the connection's whole subscription set.
 *
 * <p>Threading: Javalin calls the handlers on Jetty threads, one at a time per connection. Frames go out through each
 * connection's {@link Subscriber}, whose drains this endpoint's two {@code ws-sender} threads start; the open
 * connections are kept in {@link Connections}. Ownership: Server creates it, calls {@link #register} while building
 * Javalin, {@link #start} before serving (the periodic pings and re-checks), and {@link #close} on stop, which says
 * going-away to every open connection and stops the sender threads. The constructor starts nothing.
 */
public final class WebsocketEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebsocketEndpoint.class);

    public static final List<String> PATHS = List.of("/websocket/", "/api/websocket/");
    static final String CSRF_COOKIE = "csrftoken";
    /** Daphne's protocol ping interval; also keeps Jetty's 30 s idle timeout from closing quiet browsers. */
    private static final long PING_SECONDS = 20;
    /** How often open connections' credentials and job access are checked again (see revalidateNow). */
    static final long REVALIDATE_SECONDS = 30;
    /** Pending drain starts: at most one per connection plus closes, so this is far above any real need. */
    private static final int SENDER_QUEUE = 10_000;

    private final Config.WsConfig config;
    private final Hub hub;
    private final WsMetrics metrics;
    private final Counter revalidations;
    private final Function<WsConnectContext, Optional<WsIdentity>> authenticator;
    private final JobSight sight;
    private final VisibleJobs visibleJobs;
    private final Connections connections;
    private final ThreadPoolExecutor senders;
    private final EventSource source;
    private final Watermark watermark;
    private final Clock clock;
    private final JobFeed.Policy policy;
    private final OutboxBytes outboxBytes;
    private final SubscribeParser parser;
    /**
     * Subscribe messages per user ({@code ws.max-subscribes-per-user}), over all its connections: each costs store
     * queries, and the per-connection message rate times 100 connections is still a lot. Entries go with the user's
     * last connection.
     */
    private final Map<Long, MessageRate> subscribesPerUser = new ConcurrentHashMap<>();

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
     * non-daemon thread outlives the server and keeps a stopped node's JVM from exiting. It does nothing else, so
     * that no store query can delay a ping (a late ping lets quiet connections hit the idle timeout); the periodic
     * re-check only queues one on {@link #revalidator}.
     */
    private final ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ws-ping");
        t.setDaemon(true);
        return t;
    });

    /**
     * Re-checks of open connections' credentials and access: one thread, and at most one run waiting (a queue of 1),
     * because a run checks every connection anyway: any number of changes while one waits are covered by it
     * ({@link #revalidationQueued}). Off the ping thread, so a burst of changes cannot delay pings.
     */
    private final ThreadPoolExecutor revalidator =
            new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1), r -> {
                Thread t = new Thread(r, "ws-revalidate");
                t.setDaemon(true);
                return t;
            });
    /** A run is queued and has not started: a change now is seen by it, nothing more to queue. */
    private final AtomicBoolean revalidationQueued = new AtomicBoolean();

    private final AtomicBoolean started = new AtomicBoolean();

    /**
     * @param authenticator who the handshake's credentials prove, or empty to refuse the connection (closed with 1008)
     * @param sight         which jobs a user may watch, asked once per subscribe message (all its jobs) and per
     *                      connection by {@link #revalidate()}
     */
    public WebsocketEndpoint(
            Config.WsConfig config,
            Hub hub,
            EventSource source,
            Clock clock,
            MeterRegistry registry,
            Function<WsConnectContext, Optional<WsIdentity>> authenticator,
            JobSight sight) {
        this(config, hub, source, Watermark.LOCAL, clock, registry, authenticator, sight);
    }

    /** @param watermark the queue's, which subscribers ask before skipping a hole (cluster mode: the Redis stream's) */
    public WebsocketEndpoint(
            Config.WsConfig config,
            Hub hub,
            EventSource source,
            Watermark watermark,
            Clock clock,
            MeterRegistry registry,
            Function<WsConnectContext, Optional<WsIdentity>> authenticator,
            JobSight sight) {
        this.watermark = watermark;
        this.config = config;
        this.source = source;
        this.clock = clock;
        Config.OutboxBytes bytes = config.outboxBytes();
        this.outboxBytes = new OutboxBytes(bytes.perConnection(), bytes.perUser(), bytes.total());
        // live frames kept aside per job are shared by its subscribers; one connection's budget bounds them
        this.policy = new JobFeed.Policy(
                config.outboxCapacity(),
                config.outboxCapacity(),
                config.gapWait().toMillis(),
                config.holeWait().toMillis(),
                config.maxEventRate(),
                bytes.perConnection());
        this.hub = hub;
        this.metrics = new WsMetrics(registry);
        this.revalidations = Counter.builder(Metrics.WS_REVALIDATIONS)
                .description("runs that checked every open"
                        + " connection's credentials and job access again (periodic, or after a change, coalesced)")
                .register(registry);
        this.authenticator = authenticator;
        this.sight = sight;
        this.senders = senderPool();
        this.parser = new SubscribeParser(config.limits().maxJsonDepth());
        this.visibleJobs =
                new VisibleJobs((user, job) -> sight.filter(user, List.of(job)).contains(job), background);
        // with the user's last connection go its byte account and its subscribe rate
        this.connections = new Connections(config.limits().maxConnectionsPerUser(), userId -> {
            outboxBytes.forget(userId);
            subscribesPerUser.remove(userId);
        });
        Gauge.builder(Metrics.WS_SUBSCRIBERS, connections, Connections::size)
                .description("open browser websocket connections")
                .register(registry);
        Gauge.builder(Metrics.WS_OUTBOX_DEPTH, connections, Connections::queuedTotal)
                .description("messages queued for all subscribers of this node")
                .register(registry);
        Gauge.builder(Metrics.WS_OUTBOX_DEPTH_MAX, connections, Connections::queuedMax)
                .description("messages queued for the most backed-up subscriber of this node")
                .register(registry);
        Gauge.builder(Metrics.WS_OUTBOX_BYTES, outboxBytes, OutboxBytes::held)
                .baseUnit("bytes")
                .description("bytes of event messages held for this node's subscribers: queued, or handed to the"
                        + " socket and not yet written (bounded by ws.outbox-max-bytes-total)")
                .register(registry);
    }

    /**
     * Starts the periodic tasks on this endpoint's own threads: protocol pings and the re-check of open connections.
     * Server calls it once, before HTTP takes connections; a second call does nothing.
     */
    public WebsocketEndpoint start() {
        if (!started.compareAndSet(false, true)) return this;
        // a ping written (and taken by the browser) is what keeps a quiet connection within ws.idle-timeout
        long pingMillis = Math.min(
                PING_SECONDS * 1000, Math.max(50, config.limits().idleTimeout().toMillis() / 2));
        pinger.scheduleAtFixedRate(this::pingAll, pingMillis, pingMillis, TimeUnit.MILLISECONDS);
        // revalidate() also forgets the jobs group's answers: other nodes' access changes reach the jobs messages as
        // soon as they reach open subscriptions
        pinger.scheduleWithFixedDelay(this::revalidate, REVALIDATE_SECONDS, REVALIDATE_SECONDS, TimeUnit.SECONDS);
        return this;
    }

    /**
     * Jetty's side of the limits: incoming messages over {@code ws.max-message-size} close the connection with 1009
     * (as autobahn, Daphne's websocket library, does), and a connection on which nothing moves for
     * {@code ws.idle-timeout} (nothing read, and writes stuck because the browser stopped reading) is closed; the
     * pings keep a quiet, healthy one moving. A handshake that never completes is an HTTP request, cut off by
     * {@code http.idle-timeout}.
     */
    public void configure(JettyConfig jetty) {
        Config.WsLimits limits = config.limits();
        jetty.modifyWebSocketServletFactory(factory -> {
            factory.setMaxTextMessageSize(limits.maxMessageBytes());
            factory.setMaxBinaryMessageSize(limits.maxMessageBytes());
            factory.setIdleTimeout(limits.idleTimeout());
        });
    }

    public void register(RoutesConfig routes) {
        for (String path : PATHS) {
            routes.ws(
                    path,
                    ws -> {
                        ws.onConnect(this::onConnect);
                        ws.onMessage(this::onMessage);
                        ws.onBinaryMessage(this::onBinaryMessage);
                        ws.onClose(this::onClose);
                        ws.onError(this::onError);
                    },
                    Access.WEBSOCKET); // the handshake authenticates itself (onConnect)
        }
    }

    /** Open connections, for tests and health. */
    public int connections() {
        return connections.size();
    }

    private void onConnect(WsConnectContext ctx) {
        Optional<WsIdentity> identity = authenticator.apply(ctx);
        if (identity.isEmpty()) {
            metrics.disconnected("unauthenticated");
            ctx.closeSession(WsCloseStatus.POLICY_VIOLATION, "authentication required");
            return;
        }
        long userId = identity.get().userId();
        if (!connections.admit(userId)) {
            metrics.disconnected("too_many_connections");
            ctx.closeSession(
                    WsCloseStatus.POLICY_VIOLATION,
                    "too many connections for this user, at most "
                            + config.limits().maxConnectionsPerUser() + " (ws.max-connections-per-user)");
            return;
        }
        OutboxBytes.Account bytes = outboxBytes.open(userId);
        Subscriber subscriber = new Subscriber(
                new JettyFrameSender(ctx.session),
                policy,
                senders,
                new JobFeed.Background() {
                    @Override
                    public void execute(Runnable task) {
                        background.execute(task);
                    }

                    @Override
                    public void schedule(Runnable task, long delayMillis) {
                        background.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
                    }
                },
                source,
                hub,
                metrics,
                clock,
                watermark,
                bytes);
        subscriber.gateJobs((frame, send) -> visibleJobs.deliver(userId, frame, send));
        connections.put(
                ctx.sessionId(),
                new Connection(
                        subscriber,
                        identity.get(),
                        ctx.cookie(CSRF_COOKIE),
                        ctx.session,
                        new MessageRate(
                                config.limits().maxMessageRate(),
                                System::nanoTime,
                                refused -> metrics.rejected("rate")),
                        bytes));
        subscriber.reply(Replies.accept(userId));
    }

    private void onMessage(WsMessageContext ctx) {
        Connection connection = connections.get(ctx.sessionId());
        if (connection == null) return;
        Subscriber subscriber = connection.subscriber();
        if (!connection.rate().admit()) {
            subscriber.reply(Replies.error("too many messages: at most "
                    + config.limits().maxMessageRate() + " per second (ws.max-message-rate); this one was ignored"));
            return;
        }
        SubscribeParser.Read read = parser.read(ctx.message());
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

    /** Whether the user may subscribe to {@code jobs} more jobs now: their cost (checks, reads, hub changes) grows with the jobs. */
    private boolean admitSubscribe(long userId, int jobs) {
        int max = config.limits().maxSubscribesPerUser();
        if (max <= 0) return true;
        MessageRate rate = subscribesPerUser.computeIfAbsent(
                userId, k -> new MessageRate(max, System::nanoTime, refused -> metrics.rejected("subscribe_rate")));
        return rate.admit(jobs);
    }

    /** A binary frame: AWX's protocol is JSON text only. Answered, counted, and otherwise ignored. */
    private void onBinaryMessage(WsBinaryMessageContext ctx) {
        Connection connection = connections.get(ctx.sessionId());
        if (connection == null) return;
        metrics.rejected("binary");
        connection.subscriber().reply(Replies.MALFORMED);
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
        int max = config.limits().maxSubscriptions();
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
                    + config.limits().maxSubscribesPerUser() + " jobs named per second per user"
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

    /** One connection as {@code ./jobstream stats} shows it. */
    public record SubscriberStats(long user, String remote, List<String> groups, int queued, List<Long> catchingUp) {}

    /** The {@code limit} most backed-up connections (by messages queued), for stats: who is slow, and on what. */
    public List<SubscriberStats> subscribers(int limit) {
        return connections.all().stream()
                .map(c -> new SubscriberStats(
                        c.userId(),
                        String.valueOf(c.session().getRemoteSocketAddress()),
                        c.subscriber().groups().stream().sorted().toList(),
                        c.subscriber().queued(),
                        c.subscriber().catchingUp()))
                .sorted(Comparator.comparingInt(SubscriberStats::queued).reversed())
                .limit(limit)
                .toList();
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

    private void onClose(WsCloseContext ctx) {
        Connection connection = connections.remove(ctx.sessionId());
        if (connection != null) {
            connection.subscriber().close("closed"); // first: gives its bytes back, so the user's entry can go
            connections.release(connection.userId());
        }
    }

    /**
     * Jetty closes the connection after this (onClose does the cleanup): 1009 for a message over
     * {@code ws.max-message-size}, 1007 for a text message that is not UTF-8, 1002 for a broken frame, 1001 after
     * {@code ws.idle-timeout}. Counted by kind; logged without the message (the exception's text is Jetty's own).
     */
    private void onError(WsErrorContext ctx) {
        Throwable error = ctx.error();
        String kind = error instanceof MessageTooLargeException
                ? "too_large"
                : error instanceof BadPayloadException
                        ? "invalid_utf8"
                        : error instanceof ProtocolException
                                ? "protocol"
                                : error instanceof WebSocketTimeoutException
                                                || error instanceof java.util.concurrent.TimeoutException
                                        ? "idle_timeout"
                                        : null;
        if (kind != null && !kind.equals("idle_timeout")) metrics.rejected(kind);
        if (kind != null) metrics.disconnected(kind);
        log.debug(
                "websocket error on session {}: {}",
                ctx.sessionId(),
                error == null ? "?" : error.getClass().getSimpleName());
    }

    /**
     * Checks every open connection again soon, off the caller's thread: after a logout, a deleted token or a changed
     * password or team on this node, so that its websockets are closed at once rather than at the next periodic check.
     * Coalesced: while a run is queued and not started, further calls add nothing (that run will see their changes),
     * so a burst of changes costs at most one run after the one in progress.
     */
    public void revalidate() {
        visibleJobs.forget();
        if (!revalidationQueued.compareAndSet(false, true)) return;
        try {
            revalidator.execute(() -> {
                revalidationQueued.set(false); // before looking: a change from now on queues the next run
                revalidations.increment();
                revalidateNow();
            });
        } catch (RejectedExecutionException stopping) {
            revalidationQueued.set(false); // closed: every connection is being closed anyway
        }
    }

    /**
     * Closes, with 1008, each connection whose handshake credentials no longer authenticate its user, or whose user
     * may no longer watch one of the jobs it is subscribed to (team membership or share withdrawn). A browser that
     * reconnects must then log in again, or gets AWX's access-denied answer for that job. Runs every
     * {@value #REVALIDATE_SECONDS} s, so that withdrawals made on another node take effect within that time; always on
     * the {@code ws-revalidate} thread. One store query for each connection's jobs.
     */
    private void revalidateNow() {
        for (Map.Entry<String, Connection> e : connections.bySession()) {
            Connection c = e.getValue();
            String why;
            try {
                why = c.identity().revoked().getAsBoolean() ? "credentials no longer valid" : lostJob(c);
            } catch (RuntimeException failure) {
                log.debug("cannot revalidate a websocket now: {}", failure.toString()); // store down: next time
                continue;
            }
            if (why == null || !connections.remove(e.getKey(), c)) continue;
            connections.release(c.userId());
            log.info("closing a websocket of user {}: {}", c.userId(), why);
            if (c.subscriber().close("revoked")) {
                c.subscriber().closeTransport(WsCloseStatus.POLICY_VIOLATION.getCode(), why);
            }
        }
    }

    /** The reason to close when one of the connection's jobs is no longer visible to its user, else null. */
    private String lostJob(Connection c) {
        Set<Long> jobs = new LinkedHashSet<>();
        for (String group : c.subscriber().groups()) {
            long job = Subscriber.jobOf(group);
            if (job != 0) jobs.add(job);
        }
        if (jobs.isEmpty()) return null;
        Set<Long> visible = sight.visible(c.userId(), jobs);
        for (Long job : jobs) if (!visible.contains(job)) return "access to job " + job + " withdrawn";
        return null;
    }

    /**
     * One ping to each open connection. A failure is per connection and caught: an exception escaping a task of
     * {@code scheduleAtFixedRate} cancels it for good, and every quiet socket of the node would then hit the idle
     * timeout.
     */
    private void pingAll() {
        for (Connection c : connections.all()) {
            try {
                if (c.session().isOpen()) c.session().sendPing(ByteBuffer.allocate(0), Callback.NOOP);
            } catch (RuntimeException closing) {
                log.debug("no ping to a closing websocket: {}", closing.toString());
            }
        }
    }

    /** Tells every open connection the server is going away and stops the sender threads; idempotent. */
    @Override
    public void close() {
        pinger.shutdownNow();
        revalidator.shutdownNow();
        for (Connection connection : connections.all()) {
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
        return new ThreadPoolExecutor(
                2,
                2,
                0,
                TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(SENDER_QUEUE),
                r -> {
                    Thread t = new Thread(r, "ws-sender-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                new ThreadPoolExecutor.CallerRunsPolicy());
    }
}
