package io.jobstream.websocket;

import java.time.Duration;
import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/** {@link FrameSender} on a Jetty session: Jetty's asynchronous send, whose queue we keep to one frame. */
final class JettyFrameSender implements FrameSender {
    /**
     * How long a closing connection may take to flush its close frame. A client that stopped reading never will,
     * so Jetty's idle timeout, shortened to this, then drops the TCP connection instead of holding it for 30 s.
     */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

    private final Session session;

    JettyFrameSender(Session session) {
        this.session = session;
    }

    @Override
    public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
        session.sendText(frame, Callback.from(onSent, onFailed));
    }

    @Override
    public void close(int status, String reason) {
        session.setIdleTimeout(CLOSE_GRACE);
        session.close(status, reason, Callback.NOOP);
    }
}
