package io.jobstream.testing;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A server-sent-events client for tests, as a browser's EventSource parses the stream (WHATWG "Server-sent
 * events"): fields per line, events at blank lines, data lines joined with a line feed, comments counted. Reads on its
 * own daemon thread into {@link #events}; {@link #ended} completes when the response ends (normally or not).
 */
public final class SseClient implements AutoCloseable {
    /** One dispatched event: its type ({@code message} by default), its id field (null if none) and data. */
    public record Event(String type, String id, String data) {}

    public final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    public final CompletableFuture<Void> ended = new CompletableFuture<>();
    public final int status;
    public final String contentType;
    private final InputStream body;
    private volatile int comments;

    private final java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    private final java.net.Socket socket;

    private SseClient(HttpResponse<InputStream> response) {
        this(
                response.statusCode(),
                response.headers().firstValue("Content-Type").orElse(""),
                response.body(),
                null);
        reading.countDown();
    }

    private SseClient(int status, String contentType, InputStream body, java.net.Socket socket) {
        this.status = status;
        this.contentType = contentType;
        this.body = body;
        this.socket = socket;
        Thread reader = new Thread(this::read, "sse-test-client");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * A stream over a plain socket (HTTP/1.0, so the body is the bytes up to the close) whose reader does not read
     * until {@link #startReading}: a client that stops reading, with a small receive buffer, so the server's writes
     * back up.
     */
    public static SseClient paused(URI node, String path, String authorization, int receiveBuffer) throws Exception {
        java.net.Socket s = new java.net.Socket();
        s.setReceiveBufferSize(receiveBuffer);
        s.connect(new java.net.InetSocketAddress(node.getHost(), node.getPort()), 10_000);
        s.getOutputStream()
                .write(("GET " + path + " HTTP/1.0\r\nHost: " + node.getHost() + ":" + node.getPort()
                                + "\r\nAuthorization: " + authorization + "\r\nAccept: text/event-stream\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new AssertionError("closed before the headers: " + head);
            head.append((char) b);
        }
        String[] lines = head.toString().split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        String type = "";
        for (String l : lines)
            if (l.toLowerCase(java.util.Locale.ROOT).startsWith("content-type:"))
                type = l.substring(13).strip();
        return new SseClient(status, type, in, s);
    }

    /** Lets a {@link #paused} client's reader go. */
    public void startReading() {
        reading.countDown();
    }

    /** Opens {@code uri} with the given Authorization (null: none) and Last-Event-ID header (null: none). */
    public static SseClient open(URI uri, String authorization, String lastEventId) {
        return open(
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(),
                uri,
                authorization,
                lastEventId);
    }

    public static SseClient open(HttpClient client, URI uri, String authorization, String lastEventId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        if (authorization != null) b.header("Authorization", authorization);
        if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
        try {
            return new SseClient(client.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream()));
        } catch (Exception e) {
            throw new AssertionError("GET " + uri + ": " + e, e);
        }
    }

    /** The next event within {@code seconds}, or an AssertionError. */
    public Event next(long seconds) throws InterruptedException {
        Event e = events.poll(seconds, TimeUnit.SECONDS);
        if (e == null) throw new AssertionError("no event within " + seconds + " s (ended: " + ended.isDone() + ")");
        return e;
    }

    public int comments() {
        return comments;
    }

    private void read() {
        try {
            reading.await();
        } catch (InterruptedException e) {
            return;
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String type = null;
            String id = null;
            StringBuilder data = null;
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isEmpty()) {
                    if (data != null) events.add(new Event(type == null ? "message" : type, id, data.toString()));
                    type = null;
                    id = null;
                    data = null;
                    continue;
                }
                if (line.startsWith(":")) {
                    comments++;
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                if (value.startsWith(" ")) value = value.substring(1);
                switch (field) {
                    case "event" -> type = value;
                    case "id" -> id = value;
                    case "data" ->
                        data = data == null
                                ? new StringBuilder(value)
                                : data.append('\n').append(value);
                    default -> {} // retry, and unknown fields, are ignored as a browser would for our purposes
                }
            }
        } catch (Exception e) {
            // closed by the test, or the connection broke: the stream is over either way
        } finally {
            ended.complete(null);
        }
    }

    @Override
    public void close() {
        try {
            if (socket != null) socket.close();
            body.close();
        } catch (Exception ignored) {
            // already gone
        }
    }
}
