package io.jobstream.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A websocket client written on a bare socket, for hostile tests: it sends any frame at all (binary, invalid UTF-8,
 * oversized, broken) that a well-behaved client library refuses to produce, and answers pings only when told to.
 * Text frames from the server land in {@link #texts}; the server's close code completes {@link #closed} (-1 when
 * the connection just ended).
 */
public final class RawWebsocket implements AutoCloseable {
    public static final int TEXT = 1;
    public static final int BINARY = 2;
    public static final int CLOSE = 8;
    public static final int PING = 9;
    public static final int PONG = 10;

    public final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    public final CompletableFuture<Integer> closed = new CompletableFuture<>();
    /** The reason in the server's close frame, once {@link #closed} completed with a code. */
    public volatile String closeReason = "";
    /** Pings received from the server (a reading client answers each). */
    public final java.util.concurrent.atomic.AtomicInteger pings = new java.util.concurrent.atomic.AtomicInteger();
    /** When each ping arrived ({@link System#nanoTime}). */
    public final java.util.Queue<Long> pingTimes = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** The server's whole handshake response: status line and headers. */
    public volatile String handshake = "";

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private final Random random = new Random();
    private final boolean answerPings;

    private RawWebsocket(Socket socket, boolean answerPings) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new DataInputStream(socket.getInputStream());
        this.answerPings = answerPings;
    }

    /**
     * Opens a websocket on {@code uri} (ws:// only) with the given extra handshake headers (a Cookie), as the test
     * admin ({@link TestUsers#ADMIN_AUTH}) unless they hold an {@code Authorization} of their own.
     *
     * @param reading read frames on a thread of its own (false: a client that never reads)
     */
    public static RawWebsocket connect(URI uri, Map<String, String> headers, boolean reading) throws IOException {
        Socket s = new Socket(uri.getHost(), uri.getPort());
        s.setSoTimeout(30_000);
        s.setTcpNoDelay(true); // a frame goes at once, not 40 ms later (Nagle waiting for a delayed ACK)
        RawWebsocket ws = new RawWebsocket(s, reading);
        byte[] key = new byte[16];
        ws.random.nextBytes(key);
        StringBuilder request = new StringBuilder("GET " + uri.getRawPath() + " HTTP/1.1\r\n")
                .append("Host: ")
                .append(uri.getHost())
                .append(':')
                .append(uri.getPort())
                .append("\r\n")
                .append("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
                .append("Sec-WebSocket-Key: ")
                .append(Base64.getEncoder().encodeToString(key))
                .append("\r\n");
        if (headers.keySet().stream().noneMatch("Authorization"::equalsIgnoreCase)) {
            request.append("Authorization: ").append(TestUsers.ADMIN_AUTH).append("\r\n");
        }
        headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
        ws.out.write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        ws.out.flush();
        String head = ws.readHeaders();
        ws.handshake = head;
        String status = head.substring(0, head.indexOf("\r\n"));
        if (!status.startsWith("HTTP/1.1 101")) {
            s.close();
            throw new IOException("handshake refused: " + status);
        }
        if (reading) ws.startReading();
        return ws;
    }

    private boolean readerStarted; // guarded by this

    /** Starts reading frames (on a thread of its own), for a client connected without: it stalled until now. */
    public synchronized void startReading() {
        if (readerStarted) return;
        readerStarted = true;
        Thread t = new Thread(this::readLoop, "raw-ws-reader");
        t.setDaemon(true);
        t.start();
    }

    private String readHeaders() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        String text = "";
        while (!text.endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new EOFException("connection closed during the handshake");
            head.write(b);
            if (b == '\n') text = head.toString(StandardCharsets.ISO_8859_1);
        }
        return text;
    }

    private void readLoop() {
        try {
            ByteArrayOutputStream message = new ByteArrayOutputStream();
            while (true) {
                int b0 = in.readUnsignedByte();
                int b1 = in.readUnsignedByte();
                long len = b1 & 0x7f;
                if (len == 126) len = in.readUnsignedShort();
                else if (len == 127) len = in.readLong();
                byte[] payload = new byte[(int) len];
                in.readFully(payload);
                int opcode = b0 & 0x0f;
                boolean fin = (b0 & 0x80) != 0;
                switch (opcode) {
                    case TEXT, 0 -> {
                        message.write(payload);
                        if (fin) {
                            texts.add(message.toString(StandardCharsets.UTF_8));
                            message.reset();
                        }
                    }
                    case CLOSE -> {
                        if (payload.length > 2)
                            closeReason = new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
                        closed.complete(payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005);
                        socket.close();
                        return;
                    }
                    case PING -> {
                        pings.incrementAndGet();
                        pingTimes.add(System.nanoTime());
                        if (answerPings) send(PONG, payload, true);
                    }
                    default -> {} // binary and pong: the server sends none we care about
                }
            }
        } catch (IOException e) {
            closed.complete(-1);
        }
    }

    /** Sends one masked frame, as a client must. */
    public synchronized void send(int opcode, byte[] payload, boolean fin) throws IOException {
        send(opcode, payload, fin, true);
    }

    /** Sends one frame; {@code masked} false breaks the protocol (clients must mask). */
    public synchronized void send(int opcode, byte[] payload, boolean fin, boolean masked) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(14);
        header.put((byte) ((fin ? 0x80 : 0) | opcode));
        int mask = masked ? 0x80 : 0;
        if (payload.length < 126) {
            header.put((byte) (mask | payload.length));
        } else if (payload.length < 65536) {
            header.put((byte) (mask | 126)).putShort((short) payload.length);
        } else {
            header.put((byte) (mask | 127)).putLong(payload.length);
        }
        byte[] body = payload;
        if (masked) {
            byte[] key = new byte[4];
            random.nextBytes(key);
            header.put(key);
            body = new byte[payload.length];
            for (int i = 0; i < payload.length; i++) body[i] = (byte) (payload[i] ^ key[i & 3]);
        }
        byte[] frame = new byte[header.position() + body.length];
        System.arraycopy(header.array(), 0, frame, 0, header.position());
        System.arraycopy(body, 0, frame, header.position(), body.length);
        out.write(frame);
        out.flush();
    }

    public void sendText(String text) throws IOException {
        send(TEXT, text.getBytes(StandardCharsets.UTF_8), true);
    }

    /** The next text frame, or null when none comes within {@code seconds}. */
    public String nextText(int seconds) throws InterruptedException {
        return texts.poll(seconds, TimeUnit.SECONDS);
    }

    /** Whether the server has ended the connection: reads until the close frame or the end (for non-reading clients). */
    public boolean endedBy(long millis) throws IOException {
        socket.setSoTimeout((int) millis);
        try {
            byte[] buf = new byte[8192];
            while (in.read(buf) >= 0) {} // skip whatever was queued, the close frame too
            return true;
        } catch (java.net.SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
