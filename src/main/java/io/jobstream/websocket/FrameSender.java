package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * The network side of one connection, as the {@link Outbox} needs it: {@link Jetty} on a websocket, {@link SseSender}
 * on a server-sent-events stream; tests substitute a fake.
 */
interface FrameSender {
    /**
     * Starts sending one text frame without waiting; exactly one of the callbacks runs when it is done, possibly
     * before this method returns.
     */
    void send(String frame, Runnable onSent, Consumer<Throwable> onFailed);

    /**
     * As {@link #send(String, Runnable, Consumer)}, the text already UTF-8 encoded (once per event, shared by every
     * subscriber, so it must not be modified).
     */
    default void send(byte[] utf8, Runnable onSent, Consumer<Throwable> onFailed) {
        send(new String(utf8, StandardCharsets.UTF_8), onSent, onFailed);
    }

    /**
     * One job event's message (not a batch): as {@link #send(byte[], Runnable, Consumer)} with its bytes, unless the
     * wire needs more of it (a server-sent-events stream writes its counter as the event's {@code id}).
     */
    default void sendEvent(EventFrame event, Runnable onSent, Consumer<Throwable> onFailed) {
        send(event.utf8(), onSent, onFailed);
    }

    /**
     * Several job events' messages, each its own frame as {@link #sendEvent} would send it, in this order, written
     * together where the wire allows: per-write costs are then paid once for all of them. Exactly one of the callbacks
     * runs, once: {@code onSent} when the last has left, {@code onFailed} when any failed. By default they are sent one
     * by one (a server-sent-events stream already writes what is queued before it flushes).
     */
    default void sendEvents(List<EventFrame> events, Runnable onSent, Consumer<Throwable> onFailed) {
        AtomicInteger left = new AtomicInteger(events.size());
        AtomicBoolean failed = new AtomicBoolean();
        Runnable one = () -> {
            if (left.decrementAndGet() == 0) onSent.run(); // a failed one never counts down, so never 0 then
        };
        Consumer<Throwable> failure = cause -> {
            if (failed.compareAndSet(false, true)) onFailed.accept(cause);
        };
        for (EventFrame event : events) sendEvent(event, one, failure);
    }

    /** Starts closing the connection with a websocket status code; never waits. */
    void close(int status, String reason);

    /**
     * On a Jetty session: Jetty's asynchronous send; the {@link Outbox} bounds what it queues.
     *
     * <p>Several events at once ({@link #sendEvents}) use Jetty's batch mode: a frame sent with {@code batch} is
     * copied, header and payload, into the connection's aggregation buffer (its output buffer, {@link
     * JettySettings#OUTPUT_BUFFER_BYTES}) and written only when a frame without {@code batch} comes, or when the
     * next one does not fit (then Jetty writes what it holds and goes on). So all but the last go with {@code batch}
     * and the last without: one gathered socket write per flush (or per buffer full), and the frames on the wire are
     * exactly those that one send per frame would write.
     */
    final class Jetty implements FrameSender {
        /**
         * How long a closing connection may take to flush its close frame. A client that stopped reading never will,
         * so Jetty's idle timeout, shortened to this, then drops the TCP connection instead of holding it for 30 s.
         */
        static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

        private final Session session;
        /** Jetty's own session below the API one: it takes a text frame as bytes; null if Jetty ever hands us another. */
        private final CoreSession core;

        Jetty(Session session) {
            this.session = session;
            this.core = session instanceof WebSocketSession jetty ? jetty.getCoreSession() : null;
        }

        @Override
        public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
            session.sendText(frame, Callback.from(onSent, onFailed));
        }

        @Override
        public void send(byte[] utf8, Runnable onSent, Consumer<Throwable> onFailed) {
            if (core == null) {
                FrameSender.super.send(utf8, onSent, onFailed);
                return;
            }
            // what Session.sendText does, minus encoding the text again for every subscriber
            core.sendFrame(frame(utf8), org.eclipse.jetty.util.Callback.from(onSent, onFailed), false);
        }

        @Override
        public void sendEvents(List<EventFrame> events, Runnable onSent, Consumer<Throwable> onFailed) {
            if (core == null) {
                FrameSender.super.sendEvents(events, onSent, onFailed);
                return;
            }
            int last = events.size() - 1;
            // A batched frame's callback completes once Jetty has copied it, so it says nothing about the write; if
            // the connection breaks, Jetty fails every frame not yet written, the last one included, whose callback
            // is the one that reports. So the others need none.
            for (int i = 0; i < last; i++) {
                core.sendFrame(frame(events.get(i).utf8()), org.eclipse.jetty.util.Callback.NOOP, true);
            }
            core.sendFrame(
                    frame(events.get(last).utf8()), org.eclipse.jetty.util.Callback.from(onSent, onFailed), false);
        }

        /** A text frame of shared bytes: each wraps them in a buffer of its own, since a position belongs to one write. */
        private static Frame frame(byte[] utf8) {
            return new Frame(OpCode.TEXT, ByteBuffer.wrap(utf8));
        }

        @Override
        public void close(int status, String reason) {
            session.setIdleTimeout(CLOSE_GRACE);
            session.close(status, reason, Callback.NOOP);
        }
    }
}
