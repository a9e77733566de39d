package io.jobstream.websocket;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** The network side of one connection, as the {@link Outbox} needs it; tests substitute a fake. */
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

    /** Starts closing the connection with a websocket status code; never waits. */
    void close(int status, String reason);
}
