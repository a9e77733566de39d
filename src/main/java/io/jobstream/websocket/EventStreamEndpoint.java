package io.jobstream.websocket;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.api.JobReader;
import io.jobstream.api.JobView;
import io.jobstream.auth.Access;
import io.jobstream.auth.Client;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Principal;
import io.jobstream.auth.Requests;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-sent events for networks that block websockets (SPEC §12): {@code GET /api/v2/jobs/{id}/events/stream/}
 * answers {@code text/event-stream} with the job's events, from after {@code Last-Event-ID} (the header, which
 * EventSource sends on its reconnects, or the {@code last_event_id} query parameter for a first connect; none = from
 * the first event), each with its counter as {@code id}, exactly once and in counter order, until the job's final
 * counter has been sent ({@link SseSender} has the stream's words).
 *
 * <p>The same rules as the websocket, because it is the websocket's machinery: one {@link Subscriber} per stream with
 * its {@link JobFeed} and {@link Outbox}, the websocket endpoint's byte budgets (a slow reader holds at most
 * {@code ws.outbox-max-bytes}; beyond it the stream catches up from the store as the reader drains, nothing lost) and
 * its count of the user's connections ({@code ws.max-connections-per-user}: a stream counts as one). Access is the
 * job's: 404 for no such job, 403 for another user's; checked again on every heartbeat and when access changes on this
 * node ({@link #revalidate}), and a stream whose user lost it ends with {@code event: close}.
 *
 * <p>Threading: requests on Jetty's threads; heartbeats and re-checks on this endpoint's {@code sse-heartbeat}
 * thread. Ownership: the {@link WebsocketEndpoint} creates it ({@link WebsocketEndpoint#eventStreams}); Server
 * registers it, {@link #start}s it and {@link #close}s it on stop (each open stream then says {@code close}).
 */
public final class EventStreamEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStreamEndpoint.class);

    public static final String PATH = "/api/v2/jobs/{id}/events/stream/";
    static final String LAST_EVENT_ID = "Last-Event-ID";
    static final String LAST_EVENT_ID_PARAM = "last_event_id";

    private final Subscriber.Shared shared;
    private final Connections connections;
    private final OutboxBytes outboxBytes;
    private final JobReader jobs;
    private final JobAccess access;
    private final BiFunction<Context, Long, BooleanSupplier> revocation;
    private final Duration heartbeat;
    private final MeterRegistry registry;
    private final Set<EventStream> open = ConcurrentHashMap.newKeySet();
    private final Map<String, Counter> ends = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sse-heartbeat");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param revocation for a request and its user: whether the credentials it came with have been withdrawn since
     * @param heartbeat  how often an idle stream gets a comment line (and access is checked again)
     */
    EventStreamEndpoint(
            Subscriber.Shared shared,
            Connections connections,
            OutboxBytes outboxBytes,
            JobReader jobs,
            JobAccess access,
            BiFunction<Context, Long, BooleanSupplier> revocation,
            Duration heartbeat,
            MeterRegistry registry) {
        this.shared = shared;
        this.connections = connections;
        this.outboxBytes = outboxBytes;
        this.jobs = jobs;
        this.access = access;
        this.revocation = revocation;
        this.heartbeat = heartbeat;
        this.registry = registry;
        Gauge.builder(Metrics.SSE_STREAMS, open, Set::size)
                .description("open server-sent-events streams of this node")
                .register(registry);
    }

    public void register(RoutesConfig routes) {
        routes.get(PATH, this::handle, Access.STREAM); // counted with the websockets, not as a request in progress
    }

    /** Starts the heartbeats (and the access re-checks that go with them); a second call does nothing. */
    public synchronized EventStreamEndpoint start() {
        if (!started) {
            started = true;
            long millis = heartbeat.toMillis();
            timer.scheduleWithFixedDelay(this::tick, millis, millis, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private boolean started;

    /** Checks every open stream's access again soon (credentials or sharing changed on this node). */
    public void revalidate() {
        try {
            timer.execute(this::recheck);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // stopping: the streams are being closed anyway
        }
    }

    /** Each open stream as {@code ./jobstream stats} lists a subscriber. */
    List<WebsocketEndpoint.SubscriberStats> stats() {
        List<WebsocketEndpoint.SubscriberStats> all = new ArrayList<>();
        for (EventStream s : open) all.add(s.stats());
        return all;
    }

    /** Open streams, for tests. */
    public int streams() {
        return open.size();
    }

    private void handle(Context ctx) throws IOException {
        long jobId = jobId(ctx);
        if (jobId < 1) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        Optional<Integer> lastEventId = lastEventId(ctx);
        if (lastEventId.isEmpty()) return; // answered 400
        Principal user = Requests.principal(ctx);
        Optional<JobView> job;
        try {
            job = jobs.find(jobId);
            if (job.isPresent() && !access.mayView(user, jobId)) {
                Requests.detail(ctx, 403, Requests.FORBIDDEN);
                return;
            }
        } catch (RuntimeException e) {
            log.warn("event stream of job {}: the job store cannot answer: {}", jobId, e.toString());
            ctx.header("Retry-After", "1");
            Requests.detail(ctx, 503, "The job store is unavailable, try again.");
            return;
        }
        if (job.isEmpty()) {
            Requests.detail(ctx, 404, "Not found.");
            return;
        }
        if (!connections.admit(user.userId())) {
            ended("too_many_connections");
            ctx.header("Retry-After", "5");
            Requests.detail(
                    ctx,
                    429,
                    "Too many connections for this user (websockets and event streams), at most "
                            + connections.maxPerUser() + " (ws.max-connections-per-user).");
            return;
        }
        EventStream stream = new EventStream(
                user.userId(),
                jobId,
                revocation.apply(ctx, user.userId()),
                Client.of(ctx).remote());
        ctx.status(200);
        ctx.contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-cache, no-transform");
        ctx.header("X-Accel-Buffering", "no"); // nginx: pass each event on at once, whatever the proxy_buffering
        open.add(stream);
        ctx.future(() -> {
            ctx.req().getAsyncContext().setTimeout(0); // open as long as the job runs; heartbeats keep it moving
            OutboxBytes.Account bytes = outboxBytes.open(user.userId());
            try {
                stream.open(
                        ctx.res().getOutputStream(),
                        shared,
                        bytes,
                        lastEventId.get(),
                        () -> finalCounter(jobId),
                        reason -> closed(stream, reason));
            } catch (IOException | RuntimeException e) {
                log.warn("event stream of job {} could not start: {}", jobId, e.toString());
                stream.abort(); // leaves what it joined
                bytes.close();
                closed(stream, "failed");
            }
            return stream.over();
        });
    }

    /** The job's final counter as its row says now (null before its EOF is stored, or when the store cannot say). */
    private Integer finalCounter(long jobId) {
        try {
            return jobs.find(jobId).map(JobView::finalCounter).orElse(null);
        } catch (RuntimeException e) { // the summary message ends the stream instead
            return null;
        }
    }

    private void closed(EventStream stream, String reason) {
        if (!open.remove(stream)) return;
        connections.release(stream.userId);
        ended(reason);
    }

    private void ended(String reason) {
        ends.computeIfAbsent(
                        reason,
                        r -> Counter.builder(Metrics.SSE_ENDS)
                                .tag("reason", r)
                                .description("server-sent-events streams ended or refused, by reason")
                                .register(registry))
                .increment();
    }

    private void tick() {
        for (EventStream stream : open) stream.heartbeat();
        recheck();
    }

    /** Ends the streams whose credentials were withdrawn or whose user may no longer see the job. */
    private void recheck() {
        Map<Long, List<EventStream>> byUser = new HashMap<>();
        for (EventStream s : open)
            byUser.computeIfAbsent(s.userId, u -> new ArrayList<>()).add(s);
        byUser.forEach((user, streams) -> {
            try {
                Set<Long> visible = access.visibleOf(
                        user, streams.stream().map(s -> s.jobId).distinct().toList());
                for (EventStream s : streams) {
                    if (!visible.contains(s.jobId) || s.revoked.getAsBoolean()) s.end("access_withdrawn");
                }
            } catch (RuntimeException e) { // the store cannot answer: keep the streams until the next check
                log.debug("event streams of user {}: access not checked: {}", user, e.toString());
            }
        });
    }

    private static long jobId(Context ctx) {
        try {
            long id = Long.parseLong(ctx.pathParam("id"));
            return JobAccess.validJobId(id) ? id : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * The client's position: the {@code Last-Event-ID} header (EventSource's reconnect) before the query parameter;
     * 0 without either. Empty after answering 400 to one that is not a counter (0 .. 2147483646).
     */
    private static Optional<Integer> lastEventId(Context ctx) {
        String raw = ctx.header(LAST_EVENT_ID);
        String from = LAST_EVENT_ID;
        if (raw == null || raw.isBlank()) {
            raw = ctx.queryParam(LAST_EVENT_ID_PARAM);
            from = LAST_EVENT_ID_PARAM;
        }
        if (raw == null || raw.isBlank()) return Optional.of(0);
        String value = raw.strip();
        boolean digits = value.length() <= 10 && value.chars().allMatch(c -> c >= '0' && c <= '9');
        long n = digits ? Long.parseLong(value) : -1;
        if (n < 0 || n >= Integer.MAX_VALUE) {
            Requests.detail(
                    ctx,
                    400,
                    from + " must be the counter of the last event received (0 to " + (Integer.MAX_VALUE - 1) + ").");
            return Optional.empty();
        }
        return Optional.of((int) n);
    }

    /** Says {@code close} to every open stream and stops the heartbeats; idempotent. */
    @Override
    public void close() {
        timer.shutdownNow();
        for (EventStream stream : open) stream.end("server_stopping");
    }
}
