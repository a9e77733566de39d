package io.jobstream.websocket;

import io.javalin.config.JettyConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.TooManyRequestsResponse;
import io.javalin.websocket.WsBinaryMessageContext;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsCloseStatus;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import io.jobstream.api.JobReader;
import io.jobstream.auth.Access;
import io.jobstream.auth.Authenticator;
import io.jobstream.auth.Client;
import io.jobstream.auth.JobAccess;
import io.jobstream.broadcast.EventSource;
import io.jobstream.broadcast.Hub;
import io.jobstream.config.Config;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Watermark;
import io.jobstream.websocket.Connections.Connection;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
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
    /** ws.disconnects reason of a handshake refused while its user is blocked ({@code ws.refused-block}). */
    static final String REFUSED_USER = "refused_user";
    /** Pending drain starts: at most one per connection plus closes, so this is far above any real need. */
    private static final int SENDER_QUEUE = 10_000;
    /** Store pages kept for subscribers catching up together ({@link SharedReads}); at most 1/32 of the heap. */
    private static final long SHARED_READS_BYTES = 32L << 20;
    /** Live frames kept for subscribers a few seconds behind ({@link RecentFrames}); at most 1/16 of the heap. */
    private static final long RECENT_FRAMES_BYTES = 64L << 20;

    private final Config.WsConfig config;
    private final WsMetrics metrics;
    private final Function<WsConnectContext, Optional<WsIdentity>> authenticator;
    private final VisibleJobs visibleJobs;
    private final Connections connections;
    private final ThreadPoolExecutor senders;
    private final JettySettings jetty;
    /** What each connection's {@link Subscriber} is built from, besides its socket and byte account. */
    private final Subscriber.Shared subscribers;

    private final OutboxBytes outboxBytes;
    private final Refusals refusals;
    private final ClientMessages messages;
    private final Housekeeper housekeeper;

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
     * @param authenticator who the handshake's credentials prove, or empty to refuse the connection (closed with 1008)
     * @param sight         which jobs a user may watch, asked once per subscribe message (all its jobs) and per
     *                      connection by {@link #revalidate()}
     */
    /**
     * ws.outbox-max-bytes-total, or a quarter of the heap when that is less: what the outboxes hold is heap, and a
     * bound above what the heap can spare next to the connections themselves (about 17 KB each) only moves the
     * failure from a clear catch-up to a node lost in garbage collection.
     */
    static long nodeOutboxBound(long configured) {
        long quarter = Runtime.getRuntime().maxMemory() / 4;
        if (configured <= quarter) return configured;
        log.info(
                "ws.outbox-max-bytes-total {} MiB is more than a quarter of the heap: outboxes bounded to {} MiB",
                configured >> 20,
                quarter >> 20);
        return quarter;
    }

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
        this.config = config;
        this.jetty = new JettySettings(config.limits());
        Config.OutboxBytes bytes = config.outboxBytes();
        this.outboxBytes = new OutboxBytes(bytes.perConnection(), bytes.perUser(), nodeOutboxBound(bytes.total()));
        // live frames kept aside per job are shared by its subscribers; one connection's budget bounds them
        JobFeed.Policy policy = new JobFeed.Policy(
                config.outboxCapacity(),
                config.outboxCapacity(),
                config.gapWait().toMillis(),
                config.holeWait().toMillis(),
                config.maxEventRate(),
                bytes.perConnection());
        this.metrics = new WsMetrics(registry);
        this.authenticator = authenticator;
        this.senders = senderPool();
        JobFeed.Background feedWork = new JobFeed.Background() {
            @Override
            public void execute(Runnable task) {
                background.execute(task);
            }

            @Override
            public void schedule(Runnable task, long delayMillis) {
                background.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
            }
        };
        // subscribers that fall behind together read each page of the store once between them
        EventSource reads = new SharedReads(
                source, Math.min(SHARED_READS_BYTES, Runtime.getRuntime().maxMemory() / 32), registry);
        // and those that fell behind by a few seconds read the frames delivered live meanwhile, not the store
        RecentFrames recent = new RecentFrames(
                Math.min(RECENT_FRAMES_BYTES, Runtime.getRuntime().maxMemory() / 16), registry);
        hub.tap(recent);
        this.subscribers =
                new Subscriber.Shared(policy, senders, feedWork, reads, hub, metrics, clock, watermark, recent);
        Config.WsLimits limits = config.limits();
        this.refusals = new Refusals(
                limits.maxRefusedMessages(), Config.WsLimits.REFUSED_WINDOW, limits.refusedBlock(), System::nanoTime);
        this.messages = new ClientMessages(limits, sight, metrics, refusals);
        this.visibleJobs = new VisibleJobs(
                (user, job) -> sight.filter(user, List.of(job)).contains(job), background, metrics, clock);
        // with the user's last connection go its byte account and its subscribe rate
        this.connections = new Connections(config.limits().maxConnectionsPerUser(), userId -> {
            outboxBytes.forget(userId);
            messages.forget(userId);
        });
        this.housekeeper =
                new Housekeeper(connections, sight, visibleJobs, config.limits().idleTimeout(), registry);
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
     * Starts the periodic tasks on this endpoint's own threads ({@link Housekeeper}): protocol pings and the re-check
     * of open connections.
     * Server calls it once, before HTTP takes connections; a second call does nothing.
     */
    public WebsocketEndpoint start() {
        housekeeper.start();
        return this;
    }

    /** Jetty's side of the endpoint ({@link JettySettings}): limits, output buffer, no compression, sessions. */
    public void configure(JettyConfig jetty) {
        this.jetty.apply(jetty);
    }

    /** HTTP sessions in memory (one per open websocket); for tests. */
    long httpSessionsHeld() {
        return jetty.httpSessionsHeld();
    }

    public void register(RoutesConfig routes) {
        for (String path : PATHS) {
            routes.wsBeforeUpgrade(path, this::beforeUpgrade);
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

    /**
     * The server-sent-events route, built on this endpoint's subscribers: the same feeds, byte budgets and per-user
     * connection count (an open stream counts as a connection). The caller registers, starts and closes it.
     *
     * @param revocation for a request and its user: whether the credentials it came with have been withdrawn since
     */
    public EventStreamEndpoint eventStreams(
            JobReader jobs,
            JobAccess access,
            BiFunction<Context, Long, BooleanSupplier> revocation,
            Duration httpIdleTimeout,
            MeterRegistry registry) {
        // a heartbeat well inside the node's own idle timeout, or Jetty would close a quiet stream itself
        Duration beat = config.sseHeartbeat();
        Duration half = httpIdleTimeout.dividedBy(2);
        if (half.compareTo(beat) < 0) beat = half;
        EventStreamEndpoint streams = new EventStreamEndpoint(
                subscribers, connections, outboxBytes, jobs, access, revocation, beat, registry);
        eventStreams = streams; // listed with the websockets in stats
        return streams;
    }

    private volatile EventStreamEndpoint eventStreams;

    /** Open connections, for tests and health. */
    public int connections() {
        return connections.size();
    }

    /**
     * The handshake's credential, blocked for {@code ws.refused-block} after a connection of it was closed for refused
     * messages, is answered 429 before the upgrade: no credential check, no store query, no websocket session.
     */
    private void beforeUpgrade(Context ctx) {
        long wait = refusals.blockedCredentialFor(credential(ctx.header("Authorization"), ctx::cookie));
        if (wait == 0) return;
        metrics.disconnected(REFUSED_USER);
        ctx.header("Retry-After", Long.toString(wait));
        throw new TooManyRequestsResponse(
                "too many refused messages; new connections refused for " + wait + " s (ws.refused-block)");
    }

    /** What a handshake authenticates with, as {@link io.jobstream.auth.Authenticator} reads it; null when nothing. */
    private static String credential(String authorization, Function<String, String> cookie) {
        if (authorization != null && !authorization.isBlank()) return authorization;
        String session = Authenticator.sessionKey(cookie);
        return session == null ? null : "sessionid=" + session;
    }

    private void onConnect(WsConnectContext ctx) {
        Optional<WsIdentity> identity = authenticator.apply(ctx);
        if (identity.isEmpty()) {
            metrics.disconnected("unauthenticated");
            ctx.closeSession(WsCloseStatus.POLICY_VIOLATION, "authentication required");
            return;
        }
        long userId = identity.get().userId();
        long blocked = refusals.blockedFor(userId);
        if (blocked > 0) { // a connection of this user was closed for refused messages: no reset by reconnecting
            metrics.disconnected(REFUSED_USER);
            ctx.closeSession(
                    WsCloseStatus.POLICY_VIOLATION,
                    "too many refused messages; new connections refused for " + blocked + " s (ws.refused-block)");
            return;
        }
        if (!connections.admit(userId)) {
            metrics.disconnected("too_many_connections");
            ctx.closeSession(
                    WsCloseStatus.POLICY_VIOLATION,
                    "too many connections for this user, at most "
                            + config.limits().maxConnectionsPerUser() + " (ws.max-connections-per-user)");
            return;
        }
        OutboxBytes.Account bytes = outboxBytes.open(userId);
        Subscriber subscriber = new Subscriber(new FrameSender.Jetty(ctx.session), subscribers, bytes);
        subscriber.gateJobs((frame, send) -> visibleJobs.deliver(userId, frame, send));
        connections.put(
                ctx.sessionId(),
                new Connection(
                        subscriber,
                        identity.get(),
                        ctx.cookie(CSRF_COOKIE),
                        ctx.session,
                        messages.connectionRate(),
                        refusals.count(credential(ctx.header("Authorization"), ctx::cookie)),
                        bytes,
                        Client.of(ctx).remote()));
        subscriber.reply(Replies.accept(userId));
    }

    private void onMessage(WsMessageContext ctx) {
        Connection connection = connections.get(ctx.sessionId());
        if (connection != null) messages.onText(connection, ctx.message());
    }

    private void onBinaryMessage(WsBinaryMessageContext ctx) {
        Connection connection = connections.get(ctx.sessionId());
        if (connection != null) messages.onBinary(connection);
    }

    /** One connection as {@code ./jobstream stats} shows it. */
    public record SubscriberStats(long user, String remote, List<String> groups, int queued, List<Long> catchingUp) {}

    /**
     * The {@code limit} most backed-up connections (by messages queued), websockets and event streams (remote
     * {@code sse …}), for stats: who is slow, and on what.
     */
    public List<SubscriberStats> subscribers(int limit) {
        EventStreamEndpoint streams = eventStreams;
        return java.util.stream.Stream.concat(
                        connections.all().stream()
                                .map(c -> new SubscriberStats(
                                        c.userId(),
                                        c.remote(),
                                        c.subscriber().groups().stream()
                                                .sorted()
                                                .toList(),
                                        c.subscriber().queued(),
                                        c.subscriber().catchingUp())),
                        streams == null ? java.util.stream.Stream.empty() : streams.stats().stream())
                .sorted(Comparator.comparingInt(SubscriberStats::queued).reversed())
                .limit(limit)
                .toList();
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
     * Coalesced ({@link Housekeeper#revalidate}): a burst of changes costs at most one run after the one in progress.
     */
    public void revalidate() {
        housekeeper.revalidate();
    }

    /** Tells every open connection the server is going away and stops the sender threads; idempotent. */
    @Override
    public void close() {
        housekeeper.close();
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
