package io.jobstream.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A websocket client for long streams: checks each job event on arrival instead of keeping every frame. It expects
 * one job's counters to come exactly as {@code last + 1} each time and records the first violation; batched frames
 * (JSON arrays) are split. Replies and jobs messages go to {@link #others}.
 */
public final class StreamClient implements WebSocket.Listener {

    public final CompletableFuture<Integer> closed = new CompletableFuture<>();
    public final List<String> others = Collections.synchronizedList(new ArrayList<>());
    private final StringBuilder partial = new StringBuilder();
    private final Consumer<String> onEvent;
    private volatile boolean reading;
    private boolean stopped; // guarded by this
    private volatile int last;
    private volatile long events;
    private volatile String violation;
    private WebSocket socket;

    private StreamClient(boolean reading, int last, Consumer<String> onEvent) {
        this.reading = reading;
        this.last = last;
        this.onEvent = onEvent;
    }

    /** Connects; {@code last} is the counter the caller already has (0 for none), {@code onEvent} sees each event. */
    public static StreamClient connect(URI uri, String cookie, boolean reading, int last, Consumer<String> onEvent) {
        StreamClient client = new StreamClient(reading, last, onEvent);
        // one client each: the JDK client reads all its connections on one selector thread, too few for 50 streams
        WebSocket.Builder builder =
                HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (cookie != null) builder.header("Cookie", cookie);
        builder.header("Authorization", TestUsers.ADMIN_AUTH); // the test admin, as every test client
        client.socket =
                builder.buildAsync(uri, client).orTimeout(10, TimeUnit.SECONDS).join();
        return client;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        if (reading) webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean lastPart) {
        partial.append(data);
        if (lastPart) {
            String frame = partial.toString();
            partial.setLength(0);
            if (frame.startsWith("[")) {
                splitArray(frame);
            } else if (frame.contains("\"counter\":")) {
                event(frame);
            } else {
                others.add(frame);
            }
        }
        webSocket.request(1);
        return null;
    }

    /** Splits a batched frame at its top-level objects (tracks strings and nesting). */
    private void splitArray(String frame) {
        int depth = 0;
        int start = -1;
        boolean inString = false;
        for (int i = 1; i < frame.length() - 1; i++) {
            char c = frame.charAt(i);
            if (inString) {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                if (depth++ == 0) start = i;
            } else if (c == '}') {
                if (--depth == 0) event(frame.substring(start, i + 1));
            }
        }
    }

    private synchronized void event(String frame) {
        if (stopped) return; // aborted: what still trickles in was not seen by the "user"
        int counter = counterOf(frame);
        if (counter != last + 1 && violation == null) {
            violation = "counter " + counter + " after " + last;
        }
        last = counter;
        events++;
        if (onEvent != null) onEvent.accept(frame);
    }

    public static int counterOf(String frame) {
        int at = frame.indexOf("\"counter\":") + 10;
        int n = 0;
        while (Character.isDigit(frame.charAt(at))) n = n * 10 + frame.charAt(at++) - '0';
        return n;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.completeExceptionally(error);
    }

    public void send(String text) {
        socket.sendText(text, true).orTimeout(5, TimeUnit.SECONDS).join();
    }

    public void startReading() {
        if (!reading) {
            reading = true;
            socket.request(1);
        }
    }

    public int last() {
        return last;
    }

    public long events() {
        return events;
    }

    /** Null while every event came as the one after the previous. */
    public String violation() {
        return violation;
    }

    /** Drops the connection; from here on nothing more counts as received, so {@link #last} is final. */
    public void abort() {
        synchronized (this) {
            stopped = true;
        }
        socket.abort();
    }
}
