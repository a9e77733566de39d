package io.jobstream.websocket;

import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.Hub;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser connection's side of the fan-out: its groups, its bounded outbox, and the sender draining it.
 *
 * <p>Design note. Frames arrive from the receiver thread (through the {@link Hub}) and replies from the connection's
 * websocket thread; neither may wait for the network. {@link #offer} only puts the frame in the bounded outbox and,
 * when no drain is running, hands one to the sender executor. A drain sends one frame at a time: the next send starts
 * from the previous send's completion callback, so Jetty holds at most one frame of ours per connection and the
 * outbox is the only queue, its capacity the real bound. Jetty often completes a send inside {@code sendText}
 * itself; "the callback sends the next frame" would then recurse once per frame, so the drain loop and the callback
 * race on a small phase flag and whichever comes second carries on (a trampoline: the loop continues while sends
 * complete synchronously, the callback takes over once one does not).
 *
 * <p>A full outbox means the browser cannot keep up. channels_redis silently drops the frame; here the subscriber
 * leaves every group and closes the connection with 1013 "slow consumer" instead, so nothing is lost unnoticed and
 * the client can reload (or, later, resume from its last counter). Closing is idempotent; the endpoint calls
 * {@link #close} when the connection ends, whoever ended it.
 */
public final class Subscriber implements GroupMember {
    private static final Logger log = LoggerFactory.getLogger(Subscriber.class);

    static final int TRY_AGAIN_LATER = 1013;
    static final String SLOW_CONSUMER = "slow_consumer";
    static final String SEND_FAILED = "send_failed";

    private static final int SENDING = 0;
    private static final int RETURNED = 1; // send() returned first: the callback continues the drain
    private static final int COMPLETED = 2; // the callback ran first: the drain loop continues

    private final FrameSender sender;
    private final BlockingQueue<String> outbox;
    private final Executor executor;
    private final Hub hub;
    private final WsMetrics metrics;

    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger phase = new AtomicInteger();
    private final Set<String> groups = new LinkedHashSet<>(); // guarded by this
    private volatile String closeReason; // null while open; written under this

    /** What a subscribe message changed, in AWX's reply terms. */
    public record GroupChange(List<String> current, List<String> left, List<String> joined) {}

    Subscriber(FrameSender sender, int outboxCapacity, Executor executor, Hub hub, WsMetrics metrics) {
        this.sender = sender;
        this.outbox = new ArrayBlockingQueue<>(outboxCapacity);
        this.executor = executor;
        this.hub = hub;
        this.metrics = metrics;
    }

    @Override
    public boolean offer(String group, String frame) {
        if (closeReason != null) return true; // leaving: the frame has nowhere to go
        if (!outbox.offer(frame)) {
            closeSlow();
            return false;
        }
        scheduleDrain();
        return true;
    }

    /** Queues a protocol reply ({@code accept}, errors, {@code groups_current}) behind the frames already queued. */
    void reply(String frame) {
        if (closeReason != null) return;
        if (!outbox.offer(frame)) {
            closeSlow();
            return;
        }
        scheduleDrain();
    }

    /** Replaces this connection's groups with {@code wanted}: leaves the others, joins the new ones. */
    synchronized GroupChange replaceGroups(Set<String> wanted) {
        if (closeReason != null) return new GroupChange(List.of(), List.of(), List.of());
        List<String> left = new ArrayList<>();
        for (String group : groups) {
            if (!wanted.contains(group)) {
                hub.leave(group, this);
                left.add(group);
            }
        }
        List<String> joined = new ArrayList<>();
        for (String group : wanted) {
            if (!groups.contains(group)) {
                hub.join(group, this);
                joined.add(group);
            }
        }
        groups.clear();
        groups.addAll(wanted);
        return new GroupChange(List.copyOf(wanted), left, joined);
    }

    /** Leaves all groups and drops what is queued; returns false when already closed. Does not touch the socket. */
    boolean close(String reason) {
        synchronized (this) {
            if (closeReason != null) return false;
            closeReason = reason;
            for (String group : groups) hub.leave(group, this);
            groups.clear();
        }
        outbox.clear();
        metrics.disconnected(reason);
        return true;
    }

    /** Starts closing the connection itself, on the calling thread (server stop). */
    void closeTransport(int status, String reason) {
        sender.close(status, reason);
    }

    /** Null while open, else why it closed (a {@code ws.disconnects} reason). */
    String closeReason() {
        return closeReason;
    }

    int queued() {
        return outbox.size();
    }

    private void closeSlow() {
        if (!close(SLOW_CONSUMER)) return;
        // via the executor: closing writes a frame, which is not the delivering thread's job
        executor.execute(() -> sender.close(TRY_AGAIN_LATER, "slow consumer"));
    }

    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) executor.execute(this::drain);
    }

    private void drain() {
        while (true) {
            if (closeReason != null) return; // stays "draining" for good: no more sends after a close
            String frame = outbox.poll();
            if (frame == null) {
                draining.set(false);
                // an offer between poll() and set(false) saw a drain running and scheduled none: look again
                if (outbox.isEmpty() || !draining.compareAndSet(false, true)) return;
                continue;
            }
            phase.set(SENDING);
            sender.send(frame, this::sent, this::failed);
            if (phase.compareAndSet(SENDING, RETURNED)) return; // not done yet: sent() continues
        }
    }

    private void sent() {
        metrics.sent();
        if (phase.compareAndSet(SENDING, COMPLETED)) return; // drain() is still on the stack and loops on
        drain();
    }

    private void failed(Throwable cause) {
        // the connection is broken; Jetty closes it and the endpoint's close hook will find us closed already
        log.debug("send failed, dropping subscriber: {}", cause.toString());
        close(SEND_FAILED);
    }

    @Override
    public String toString() {
        return "Subscriber" + groups();
    }

    private synchronized Set<String> groups() {
        return Set.copyOf(groups);
    }
}
