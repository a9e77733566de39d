package io.jobstream.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A JDK websocket client for tests: collects whole text frames, or reads nothing at all when {@code reading} is off. */
public final class WsTestClient implements WebSocket.Listener {
    private static final HttpClient HTTP = HttpClient.newHttpClient(); // Java 17: cannot be closed, so shared

    public final BlockingQueue<String> frames = new LinkedBlockingQueue<>(1_000_000);
    public final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final boolean reading;
    private final StringBuilder partial = new StringBuilder();
    private WebSocket socket;

    private WsTestClient(boolean reading) {
        this.reading = reading;
    }

    /** Connects as the test admin ({@link TestUsers#ADMIN_AUTH}). */
    public static WsTestClient connect(URI uri, String cookie, boolean reading) {
        return connect(HTTP, uri, cookie, reading);
    }

    /** Connects with the given client (e.g. one whose SSLContext trusts a test node's certificate, for wss). */
    public static WsTestClient connect(HttpClient http, URI uri, String cookie, boolean reading) {
        return connect(http, uri, cookie, TestUsers.ADMIN_AUTH, reading);
    }

    /** Connects with this {@code Authorization} header (null: none, e.g. cookie only or anonymous). */
    public static WsTestClient connect(URI uri, String cookie, String authorization, boolean reading) {
        return connect(HTTP, uri, cookie, authorization, reading);
    }

    /** Connects with exactly these handshake headers (e.g. a browser's Cookie and Origin, and no Authorization). */
    public static WsTestClient connect(URI uri, java.util.Map<String, String> headers, boolean reading) {
        WsTestClient client = new WsTestClient(reading);
        WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        headers.forEach(builder::header);
        client.socket =
                builder.buildAsync(uri, client).orTimeout(5, TimeUnit.SECONDS).join();
        return client;
    }

    public static WsTestClient connect(HttpClient http, URI uri, String cookie, String authorization, boolean reading) {
        WsTestClient client = new WsTestClient(reading);
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (cookie != null) builder.header("Cookie", cookie);
        if (authorization != null) builder.header("Authorization", authorization);
        client.socket =
                builder.buildAsync(uri, client).orTimeout(5, TimeUnit.SECONDS).join();
        return client;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        if (reading) webSocket.request(1); // a non-reading client never asks for a frame: the server must cope
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            frames.add(partial.toString());
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
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

    /** The next whole frame, parsed; fails the test when none comes within 5 s. */
    public JsonNode next() throws Exception {
        String frame = frames.poll(5, TimeUnit.SECONDS);
        assertThat(frame).as("a frame within 5 s").isNotNull();
        return Json.MAPPER.readTree(frame);
    }

    /** A client connected with {@code reading} off starts reading now (a slow browser that comes back). */
    public void startReading() {
        socket.request(1);
    }

    public void abort() {
        socket.abort();
    }
}
