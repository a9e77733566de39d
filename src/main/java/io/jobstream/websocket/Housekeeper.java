package io.jobstream.websocket;

import io.javalin.websocket.WsCloseStatus;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.metrics.Metrics;
import io.jobstream.websocket.Connections.Connection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.websocket.api.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint's periodic work on its open connections: protocol pings, and re-checks of each connection's
 * credentials and job access, which close (with 1008) the connections that no longer hold.
 *
 * <p>Threading: two daemon threads of its own, {@code ws-ping} (pings, and queueing the periodic re-check) and
 * {@code ws-revalidate} (the re-checks, which may query the store); {@link #revalidate} may be called from any thread.
 * Ownership: the {@link WebsocketEndpoint} creates it (starting nothing), and its {@code start()} and {@code close()}
 * call {@link #start} and {@link #close}.
 */
final class Housekeeper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Housekeeper.class);

    /** Daphne's protocol ping interval; also keeps Jetty's 30 s idle timeout from closing quiet browsers. */
    private static final long PING_SECONDS = 20;
    /** How often open connections' credentials and job access are checked again (see revalidateNow). */
    static final long REVALIDATE_SECONDS = 30;

    private final Connections connections;
    private final JobSight sight;
    private final VisibleJobs visibleJobs;
    private final Duration idleTimeout;
    private final Counter revalidations;

    /**
     * Protocol pings come from this daemon thread rather than Javalin's automatic pings, whose non-daemon thread
     * outlives the server and keeps a stopped node's JVM from exiting. It does nothing else, so that no store query
     * can delay a ping (a late ping lets quiet connections hit the idle timeout); the periodic re-check only queues
     * one on {@link #revalidator}.
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
     * @param sight       which jobs a user may watch, asked once per connection by a re-check
     * @param visibleJobs the jobs group's answers, forgotten by every {@link #revalidate}
     * @param idleTimeout {@code ws.idle-timeout}, which the pings must beat
     */
    Housekeeper(
            Connections connections,
            JobSight sight,
            VisibleJobs visibleJobs,
            Duration idleTimeout,
            MeterRegistry registry) {
        this.connections = connections;
        this.sight = sight;
        this.visibleJobs = visibleJobs;
        this.idleTimeout = idleTimeout;
        this.revalidations = Counter.builder(Metrics.WS_REVALIDATIONS)
                .description("runs that checked every open"
                        + " connection's credentials and job access again (periodic, or after a change, coalesced)")
                .register(registry);
    }

    /** Schedules the pings and the periodic re-check; a second call does nothing. */
    void start() {
        if (!started.compareAndSet(false, true)) return;
        // a ping written (and taken by the browser) is what keeps a quiet connection within ws.idle-timeout
        long pingMillis = Math.min(PING_SECONDS * 1000, Math.max(50, idleTimeout.toMillis() / 2));
        pinger.scheduleAtFixedRate(this::pingAll, pingMillis, pingMillis, TimeUnit.MILLISECONDS);
        // revalidate() also forgets the jobs group's answers: other nodes' access changes reach the jobs messages as
        // soon as they reach open subscriptions
        pinger.scheduleWithFixedDelay(this::revalidate, REVALIDATE_SECONDS, REVALIDATE_SECONDS, TimeUnit.SECONDS);
    }

    /**
     * Checks every open connection again soon, off the caller's thread, and forgets the jobs group's answers.
     * Coalesced: while a run is queued and not started, further calls add nothing (that run will see their changes),
     * so a burst of changes costs at most one run after the one in progress.
     */
    void revalidate() {
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
            long job = EventMessages.jobOfEventsGroup(group);
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

    /** Stops the pings and the re-checks (a run in progress is interrupted); idempotent. */
    @Override
    public void close() {
        pinger.shutdownNow();
        revalidator.shutdownNow();
    }
}
