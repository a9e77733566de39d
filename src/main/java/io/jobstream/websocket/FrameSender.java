package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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

    /** Starts closing the connection with a websocket status code; never waits. */
    void close(int status, String reason);

    /** On a Jetty session: Jetty's asynchronous send; the {@link Outbox} bounds what it queues. */
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
            // what Session.sendText does, minus encoding the text again for every subscriber; each send wraps the
            // shared array in a buffer of its own, since a buffer's position belongs to one write
            core.sendFrame(
                    new Frame(OpCode.TEXT, ByteBuffer.wrap(utf8)),
                    org.eclipse.jetty.util.Callback.from(onSent, onFailed),
                    false);
        }

        @Override
        public void close(int status, String reason) {
            session.setIdleTimeout(CLOSE_GRACE);
            session.close(status, reason, Callback.NOOP);
        }
    }
}
