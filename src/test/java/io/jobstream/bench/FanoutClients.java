package io.jobstream.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The subscribers of {@code bench/fanout}, in a process of their own so that they are not the server's CPU: N
 * websocket connections driven by one selector thread, which neither decodes text nor parses JSON. Each text frame's
 * bytes are scanned as they arrive for {@code "created":"}: every event message has exactly one (its top-level
 * field; event_data of the benchmark's events has none), so this counts events in plain and in batched frames (a JSON
 * array of events) alike, and the 26 bytes after it are the publisher's timestamp, from which lag = arrival − created
 * is computed with integer arithmetic. Frames are never buffered whole, so 1,000 connections cost a few KB each.
 *
 * <p>The websocket client side is the minimum RFC 6455 asks of a client that only listens: the upgrade request, a
 * masked subscribe frame, a pong for every ping, and unmasked server frames parsed header by header.
 *
 * <p>Arguments: uri connections expected-events-per-connection warmup-events-per-connection subscribe-message|-.
 * Environment {@code JOBSTREAM_AUTHORIZATION}: the handshake's {@code Authorization} header value (e.g.
 * {@code Basic …} or {@code Bearer …}), for a node that requires credentials. Prints {@code READY} once every
 * connection is open (and subscribed, when a subscribe message is given), stops when every connection has its events
 * or {@code fanout.drain.seconds} after a line on stdin (the publisher is done), then prints one {@code RESULT} line
 * with an encoded histogram of the lags (microseconds) for the parent to merge.
 *
 * <p>For many jobs ({@code bench/connections}): a subscribe message holding {@code {job}} names, for connection i,
 * job {@code fanout.first.job + i % fanout.jobs}; {@code fanout.stalled} (a share, e.g. 0.1) of the connections, drawn
 * at random with a fixed seed, stop reading once subscribed (never read again: the server's outbox and the socket's buffers fill) and are not waited
 * for; and per live connection the share of its events later than {@code fanout.slow.ms} (100) is kept, so that the
 * RESULT line can say how many connections had a p99 above it ({@code over}: more than 1% of their events later) and
 * the worst connection's share ({@code worst}), without a histogram per connection.
 *
 * <p>With {@code fanout.per.second=true} ({@code bench/lag}): the measured lags are also kept per second of arrival
 * (wall clock), and the RESULT line gains {@code seconds=<epoch-second>:<histogram>,...}, so that the parent can merge
 * several processes' seconds and show the per-second p99 over the window, not only the whole window's.
 */
public final class FanoutClients {
    private static final byte[] CREATED = "\"created\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SUBSCRIBED = "\"groups_current\"".getBytes(StandardCharsets.US_ASCII);
    /** "2026-11-28T11:08:59.123456": what is needed of the timestamp. */
    private static final int STAMP = 26;

    private static final long START_NANOS = System.nanoTime();
    /** Wall clock = nanoTime/1000 + this: one Instant at start, then no allocation per event. */
    private static final long EPOCH_OFFSET_MICROS = micros(Instant.now()) - START_NANOS / 1000;

    private final Histogram lags = new Histogram(TimeUnit.MINUTES.toMicros(5), 3);
    private final long slowMicros = TimeUnit.MILLISECONDS.toMicros(Long.getLong("fanout.slow.ms", 100));
    private final int expected;
    private final int warmup;
    /** Per second of arrival (fanout.per.second), else null; the current second's histogram cached. */
    private final java.util.TreeMap<Long, Histogram> perSecond =
            Boolean.getBoolean("fanout.per.second") ? new java.util.TreeMap<>() : null;

    private long currentSecond = -1;
    private Histogram currentSecondLags;
    private long measured;
    private long firstMeasuredMicros = Long.MAX_VALUE;
    private long lastMicros;
    private int cachedDateKey = -1;
    private long cachedEpochDayMicros;

    private FanoutClients(int expected, int warmup) {
        this.expected = expected;
        this.warmup = warmup;
    }

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        int n = Integer.parseInt(args[1]);
        int expected = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        String subscribe = args[4].equals("-") ? null : args[4];
        String authorization = System.getenv("JOBSTREAM_AUTHORIZATION");
        new FanoutClients(expected, warmup).run(uri, n, subscribe, authorization);
    }

    private void run(URI uri, int n, String subscribeTemplate, String authorization) throws Exception {
        int jobs = Integer.getInteger("fanout.jobs", 1);
        long firstJob = Long.getLong("fanout.first.job", 1);
        // which connections stall: drawn from a fixed seed, so runs repeat, and independent of the job a connection
        // watches (i % jobs), so that every job has about the same share of stalled viewers
        double stalledShare = Double.parseDouble(System.getProperty("fanout.stalled", "0"));
        java.util.SplittableRandom draw = new java.util.SplittableRandom(15);
        Selector selector = Selector.open();
        InetSocketAddress address = new InetSocketAddress(uri.getHost(), uri.getPort());
        List<Connection> connections = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SocketChannel ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            byte[] subscribe = subscribeTemplate == null
                    ? null
                    : subscribeTemplate
                            .replace("{job}", Long.toString(firstJob + i % jobs))
                            .getBytes(StandardCharsets.UTF_8);
            Connection c = new Connection(ch, handshake(uri, authorization), subscribe);
            c.stalls = draw.nextDouble() < stalledShare;
            connections.add(c);
            ch.connect(address);
            ch.register(selector, SelectionKey.OP_CONNECT, c);
        }
        // the parent writes a line when the publisher is done: from then on, wait at most the drain time
        Thread stdin = new Thread(() -> {
            try {
                new BufferedReader(new InputStreamReader(System.in)).readLine();
            } catch (IOException ignored) {
                // parent gone: stop as well
            }
            publisherDone = System.nanoTime();
        });
        stdin.setDaemon(true);
        stdin.start();

        ByteBuffer in = ByteBuffer.allocate(256 * 1024);
        boolean ready = false;
        long drainNanos = TimeUnit.SECONDS.toNanos(Long.getLong("fanout.drain.seconds", 20));
        long setupDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("fanout.setup.seconds", 120));
        int done = 0;
        while (done < n) {
            selector.select(50);
            for (SelectionKey key : selector.selectedKeys()) {
                Connection c = (Connection) key.attachment();
                try {
                    if (key.isConnectable()) {
                        c.channel.finishConnect();
                        c.write(c.handshake);
                        key.interestOps(SelectionKey.OP_READ);
                    } else if (key.isReadable()) {
                        in.clear();
                        int read = c.channel.read(in);
                        if (read < 0) throw new IOException("closed by the server");
                        boolean wasDone = c.received >= expected;
                        c.consume(in.array(), 0, read);
                        if (!wasDone && c.received >= expected) done++;
                        if (c.stalls && c.subscribed && !c.stalled) { // from now on never read: not waited for
                            c.stalled = true;
                            key.interestOps(0);
                            if (!wasDone && c.received < expected) done++;
                        }
                    }
                } catch (IOException e) {
                    System.out.println("connection failed: " + e);
                    key.cancel();
                    c.channel.close();
                    if (c.received < expected) done++;
                    c.received = Math.max(c.received, expected); // counted as done, its shortfall shows in the total
                    c.failed = true;
                }
            }
            selector.selectedKeys().clear();
            if (!ready) {
                ready = true;
                for (Connection c : connections) ready &= c.failed || (c.open && c.subscribed);
                if (ready) {
                    System.out.println("READY");
                    System.out.flush();
                } else if (System.nanoTime() > setupDeadline) {
                    System.out.println("setup timed out");
                    break;
                }
            }
            long finished = publisherDone;
            if (finished != 0 && System.nanoTime() - finished > drainNanos) break;
        }
        long received = 0;
        long failed = 0;
        long stalled = 0;
        long over = 0; // live connections with more than 1% of their events later than fanout.slow.ms
        double worst = 0;
        for (Connection c : connections) {
            if (c.stalled) {
                stalled++;
                continue;
            }
            received += c.counted;
            if (c.failed) failed++;
            double share = c.counted == 0 ? 0 : (double) c.slow / c.counted;
            if (share > 0.01) over++;
            worst = Math.max(worst, share);
        }
        StringBuilder seconds = new StringBuilder();
        if (perSecond != null) {
            perSecond.forEach((second, h) -> seconds.append(seconds.length() == 0 ? " seconds=" : ",")
                    .append(second)
                    .append(':')
                    .append(encode(h)));
        }
        System.out.printf(
                "RESULT received=%d measured=%d first=%d last=%d failed=%d stalled=%d over=%d worst=%.4f histogram=%s%s%n",
                received,
                measured,
                firstMeasuredMicros == Long.MAX_VALUE ? 0 : firstMeasuredMicros,
                lastMicros,
                failed,
                stalled,
                over,
                worst,
                encode(lags),
                seconds);
        System.out.flush();
        System.exit(0);
    }

    private static volatile long publisherDone;

    /** A histogram compressed and in Base64: one token of the RESULT line. */
    static String encode(Histogram h) {
        ByteBuffer encoded = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        h.encodeIntoCompressedByteBuffer(encoded);
        encoded.flip();
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** The inverse of {@link #encode}. */
    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(
                    ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalArgumentException("not an encoded histogram", e);
        }
    }

    private static byte[] handshake(URI uri, String authorization) {
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return ("GET " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                        + Base64.getEncoder().encodeToString(key) + "\r\nCookie: csrftoken=bench\r\n"
                        + (authorization == null || authorization.isEmpty()
                                ? ""
                                : "Authorization: " + authorization + "\r\n")
                        + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    static long micros(Instant t) {
        return TimeUnit.SECONDS.toMicros(t.getEpochSecond()) + t.getNano() / 1000;
    }

    private long nowMicros() {
        return System.nanoTime() / 1000 + EPOCH_OFFSET_MICROS;
    }

    /** Epoch microseconds of "yyyy-MM-ddTHH:mm:ss.ffffff" (UTC), digits only, the day cached. */
    private long stampMicros(byte[] s) {
        int dateKey = num(s, 0, 4) * 10000 + num(s, 5, 2) * 100 + num(s, 8, 2);
        if (dateKey != cachedDateKey) {
            cachedDateKey = dateKey;
            cachedEpochDayMicros =
                    TimeUnit.DAYS.toMicros(LocalDate.of(dateKey / 10000, dateKey / 100 % 100, dateKey % 100)
                            .toEpochDay());
        }
        long secondOfDay = num(s, 11, 2) * 3600L + num(s, 14, 2) * 60L + num(s, 17, 2);
        return cachedEpochDayMicros + secondOfDay * 1_000_000L + num(s, 20, 6);
    }

    private static int num(byte[] s, int at, int digits) {
        int v = 0;
        for (int i = at; i < at + digits; i++) v = v * 10 + (s[i] - '0');
        return v;
    }

    private void event(Connection c, long created) {
        c.received++;
        long now = nowMicros();
        lastMicros = now;
        if (c.received <= warmup || c.stalled) return;
        c.counted++;
        measured++;
        if (firstMeasuredMicros == Long.MAX_VALUE) firstMeasuredMicros = now;
        long lag = Math.max(0, now - created);
        if (lag > slowMicros) c.slow++;
        lags.recordValue(Math.min(lags.getHighestTrackableValue(), lag));
        if (perSecond != null) {
            long second = now / 1_000_000;
            if (second != currentSecond) {
                currentSecond = second;
                currentSecondLags =
                        perSecond.computeIfAbsent(second, s -> new Histogram(lags.getHighestTrackableValue(), 2));
            }
            currentSecondLags.recordValue(Math.min(lags.getHighestTrackableValue(), lag));
        }
    }

    /** One connection's streaming state: handshake, then frame header by frame header, payload byte by byte. */
    private final class Connection {
        final SocketChannel channel;
        final byte[] handshake;
        final byte[] subscribe;
        boolean open;
        boolean subscribed;
        boolean failed;
        boolean stalls; // stops reading once subscribed (fanout.stalled)
        boolean stalled; // has stopped
        long slow; // measured events later than fanout.slow.ms
        long received; // events, warm-up included
        long counted; // events after the warm-up
        // handshake response: bytes matched of "\r\n\r\n"
        int headerEnd;
        final StringBuilder status = new StringBuilder();
        // frame header
        final byte[] header = new byte[10];
        int headerRead;
        int headerNeeded = 2;
        long payloadLeft;
        int opcode;
        boolean textMessage; // the current message (across continuation frames) is text
        final byte[] control = new byte[125];
        int controlRead;
        // scanners over text payload
        int createdMatched;
        int subscribedMatched;
        final byte[] stamp = new byte[STAMP];
        int stampRead = -1;

        Connection(SocketChannel channel, byte[] handshake, byte[] subscribe) {
            this.channel = channel;
            this.handshake = handshake;
            this.subscribe = subscribe;
            this.subscribed = subscribe == null; // nothing to wait for
        }

        void write(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                if (channel.write(b) == 0) Thread.onSpinWait(); // small writes on an idle socket: rare
            }
        }

        void consume(byte[] b, int off, int len) throws IOException {
            int i = off;
            int end = off + len;
            if (!open) {
                while (i < end && !open) {
                    byte x = b[i++];
                    if (status.length() < 12) status.append((char) x);
                    headerEnd = x == (headerEnd % 2 == 0 ? '\r' : '\n') ? headerEnd + 1 : (x == '\r' ? 1 : 0);
                    if (headerEnd == 4) {
                        if (!status.toString().startsWith("HTTP/1.1 101")) {
                            throw new IOException("handshake refused: " + status);
                        }
                        open = true;
                        if (subscribe != null) write(maskedText(subscribe));
                    }
                }
            }
            while (i < end) {
                if (headerRead < headerNeeded) {
                    header[headerRead++] = b[i++];
                    if (headerRead == 2) {
                        int len7 = header[1] & 0x7f;
                        headerNeeded = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
                    }
                    if (headerRead == headerNeeded) startFrame();
                    continue;
                }
                int take = (int) Math.min(payloadLeft, end - i);
                if (opcode >= 8) {
                    System.arraycopy(b, i, control, controlRead, take);
                    controlRead += take;
                } else if (textMessage) {
                    scan(b, i, i + take);
                }
                i += take;
                payloadLeft -= take;
                if (payloadLeft == 0) endFrame();
            }
        }

        private void startFrame() throws IOException {
            opcode = header[0] & 0x0f;
            int len7 = header[1] & 0x7f;
            if (len7 < 126) {
                payloadLeft = len7;
            } else if (len7 == 126) {
                payloadLeft = ((header[2] & 0xff) << 8) | (header[3] & 0xff);
            } else {
                payloadLeft = 0;
                for (int k = 2; k < 10; k++) payloadLeft = (payloadLeft << 8) | (header[k] & 0xff);
            }
            if (opcode == 1) textMessage = true;
            else if (opcode == 2) textMessage = false;
            controlRead = 0;
            if (payloadLeft == 0) endFrame();
        }

        private void endFrame() throws IOException {
            if (opcode == 9) write(masked(0x8A, control, controlRead)); // pong
            if (opcode == 8) throw new IOException("closed by the server (close frame)");
            headerRead = 0;
            headerNeeded = 2;
        }

        private void scan(byte[] b, int from, int to) {
            for (int i = from; i < to; i++) {
                byte x = b[i];
                if (stampRead >= 0) {
                    stamp[stampRead++] = x;
                    if (stampRead == STAMP) {
                        stampRead = -1;
                        event(this, stampMicros(stamp));
                    }
                    continue;
                }
                createdMatched = x == CREATED[createdMatched] ? createdMatched + 1 : (x == '"' ? 1 : 0);
                if (createdMatched == CREATED.length) {
                    createdMatched = 0;
                    stampRead = 0;
                }
                if (!subscribed) {
                    subscribedMatched = x == SUBSCRIBED[subscribedMatched] ? subscribedMatched + 1 : (x == '"' ? 1 : 0);
                    if (subscribedMatched == SUBSCRIBED.length) subscribed = true;
                }
            }
        }
    }

    private static byte[] maskedText(byte[] payload) {
        return masked(0x81, payload, payload.length);
    }

    /** A client frame (FIN set, {@code first} = FIN | opcode): clients must mask, so a random key is applied. */
    private static byte[] masked(int first, byte[] payload, int length) {
        int headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
        byte[] frame = new byte[headerLength + 4 + length];
        frame[0] = (byte) first;
        if (length < 126) {
            frame[1] = (byte) (0x80 | length);
        } else if (length < 65536) {
            frame[1] = (byte) (0x80 | 126);
            frame[2] = (byte) (length >>> 8);
            frame[3] = (byte) length;
        } else {
            frame[1] = (byte) (0x80 | 127);
            for (int k = 0; k < 8; k++) frame[2 + k] = (byte) ((long) length >>> (56 - 8 * k));
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        System.arraycopy(mask, 0, frame, headerLength, 4);
        for (int k = 0; k < length; k++) frame[headerLength + 4 + k] = (byte) (payload[k] ^ mask[k % 4]);
        return frame;
    }
}
