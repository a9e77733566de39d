package io.jobstream.websocket;

import java.util.function.Consumer;

/** The network side of one connection, as the {@link Subscriber} needs it; tests substitute a fake. */
interface FrameSender {
    /**
     * Starts sending one text frame without waiting; exactly one of the callbacks runs when it is done, possibly
     * before this method returns.
     */
    void send(String frame, Runnable onSent, Consumer<Throwable> onFailed);

    /** Starts closing the connection with a websocket status code; never waits. */
    void close(int status, String reason);
}
