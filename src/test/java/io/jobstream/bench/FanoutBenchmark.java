package io.jobstream.bench;

import static org.awaitility.Awaitility.await;

import io.javalin.Javalin;
import io.javalin.websocket.WsContext;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.broadcast.MemoryEventSource;
import io.jobstream.config.Config;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobEvent;
import io.jobstream.event.StoredEvent;
import io.jobstream.metrics.Metrics;
import io.jobstream.websocket.WebsocketEndpoint;
import io.jobstream.websocket.WsIdentity;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * Fan-out of one job to N websocket subscribers (run by {@code bench/fanout}; not a test). The publisher stands in
 * for the receiver: it builds committed events at a fixed rate (stamped {@code created} = now) and publishes them, so
 * what is measured is broadcast → per-subscriber sequencing and outbox → Jetty → client, without HTTP ingest or
 * PostgreSQL (an in-memory store backs catch-up). Three servers, each in this JVM:
 * <ul>
 *   <li>{@code jobstream}: the real {@link WebsocketEndpoint} and {@link MemoryBroadcaster}, one frame per event;
 *   <li>{@code batched}: the same with {@code "batch": true} in the subscribe message (queued events go out several
 *       per frame, as a JSON array);
 *   <li>{@code bare}: a plain Javalin websocket route; the publisher builds and encodes each event's frame once (the
 *       same bytes) and appends it to every session's unbounded queue, which two sender threads drain into Jetty's
 *       asynchronous send, one call per frame with 32 frames in flight (what jobstream did before it coalesced each
 *       connection's writes per flush, issue 15), at Jetty's default output buffer;
 *   <li>{@code bare-text} (not run by default): bare, but through Jetty's {@code Session.sendText(String)}, which
 *       encodes the text once per session — the cost jobstream paid before it sent pre-encoded bytes. No sequencing, no bounds, no metrics: the ceiling of
 *       this server library on this machine.
 * </ul>
 * The subscribers run in separate processes ({@link FanoutClients}). CPU is read from {@code /proc/<pid>/stat} for
 * this (server) process and the client processes, and from {@code /proc/stat} for the whole machine, over the same
 * window (publishing start → last client result), as a share of all cores, and as CPU microseconds per delivered
 * message ({@code srv us}, {@code cli us}): a figure that other work on the machine changes far less than rates.
 *
 * <p>Arguments: seconds-per-run, then runs as {@code subscribers:rate} (events/s), e.g. {@code 4 1:20000 10:10000}.
 * Environment: {@code FANOUT_SERVERS} (default {@code bare,jobstream,batched}), {@code FANOUT_CLIENT_PROCESSES}
 * (default 1), {@code FANOUT_WARMUP} ({@code 0}: no unprinted warm-up run per server first),
 * {@code JOBSTREAM_AUTHORIZATION} (passed to the clients' handshake).
 */
public final class FanoutBenchmark {
    private static final long JOB = 1;
    private static final int TICK_MS = 10;
    /** Frames handed to Jetty and not yet written, per connection (jobstream's Outbox before it coalesced flushes). */
    private static final int BARE_WINDOW = 32;

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        String[] servers = System.getenv()
                .getOrDefault("FANOUT_SERVERS", "bare,jobstream,batched")
                .split(",");
        int processes = Integer.parseInt(System.getenv().getOrDefault("FANOUT_CLIENT_PROCESSES", "1"));
        System.out.printf(
                "%-9s %5s %8s %9s %10s %7s %7s %7s %6s %6s %6s %7s %7s %5s  %s%n",
                "server",
                "subs",
                "events/s",
                "offered/s",
                "deliv/s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "server",
                "client",
                "other",
                "srv us",
                "cli us",
                "load",
                "notes");
        if (!"0".equals(System.getenv("FANOUT_WARMUP"))) {
            // one short unprinted run per server first, so that the first printed one is not the JIT's
            for (String server : servers) runOnce(server.trim(), 10, 10_000, 2, processes, false);
        }
        for (int i = 1; i < args.length; i++) {
            String[] run = args[i].split(":");
            int subscribers = Integer.parseInt(run[0]);
            int rate = Integer.parseInt(run[1]);
            for (String server : servers) runOnce(server.trim(), subscribers, rate, seconds, processes, true);
        }
        System.exit(0);
    }

    private static void runOnce(String server, int subscribers, int rate, int seconds, int processes, boolean print)
            throws Exception {
        boolean bare = server.startsWith("bare");
        PrometheusMeterRegistry registry =
                Metrics.newRegistry(); // the node's own kind: its timers cost what they cost there
        Hub hub = new Hub(registry);
        MemoryEventSource store = new MemoryEventSource();
        MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);
        BareServer bareServer = new BareServer(server.equals("bare-text"));
        WebsocketEndpoint endpoint = new WebsocketEndpoint(
                        new Config.WsConfig(10_000),
                        hub,
                        store,
                        Clock.systemUTC(),
                        registry,
                        ctx -> Optional.of(WsIdentity.permanent(1)),
                        (user, jobs) -> Set.copyOf(jobs))
                .start();
        Javalin app = Javalin.create(cfg -> {
                    cfg.startup.showJavalinBanner = false;
                    if (bare) {
                        cfg.routes.ws("/bare/", ws -> {
                            ws.onConnect(bareServer::connect);
                            ws.onClose(bareServer::disconnect);
                        });
                    } else {
                        endpoint.configure(cfg.jetty); // the node's Jetty settings (output buffer, limits)
                        endpoint.register(cfg.routes);
                    }
                })
                .start("127.0.0.1", 0);
        int perTick = Math.max(1, rate * TICK_MS / 1000);
        int total = perTick * (seconds * 1000 / TICK_MS);
        int warmup = Math.min(perTick * 100, total / 3); // the first second or third
        String uri = "ws://127.0.0.1:" + app.port() + (bare ? "/bare/" : "/websocket/");
        String subscribe = bare
                ? "-"
                : "{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[" + JOB + "]}"
                        + (server.equals("batched") ? ",\"batch\":true}" : "}");
        List<Client> clients = new ArrayList<>();
        for (int p = 0; p < processes; p++) {
            int n = subscribers / processes + (p < subscribers % processes ? 1 : 0);
            if (n > 0) clients.add(new Client(uri, n, total, warmup, subscribe));
        }
        for (Client c : clients) c.awaitReady();
        if (bare)
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> bareServer.sessions.size() >= subscribers);
        Thread.sleep(200); // warm-up: the handshakes' threads settle before the CPU and load measurements start

        double load = loadAverage();
        Cpu cpu = new Cpu(clients);
        long start = System.nanoTime();
        Consumer<List<StoredEvent>> publish = bare
                ? batch -> {
                    for (StoredEvent e : batch) {
                        String text = EventMessages.event(e);
                        bareServer.broadcast(new Item(text, text.getBytes(StandardCharsets.UTF_8)));
                    }
                }
                : batch -> {
                    batch.forEach(store::add);
                    broadcaster.publish(new CommittedBatch(batch, List.of()));
                };
        int counter = 0;
        for (int tick = 0; counter < total; tick++) {
            long wait = start + TimeUnit.MILLISECONDS.toNanos((long) tick * TICK_MS) - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // pacing the sender: the benchmark's load
            List<StoredEvent> batch = new ArrayList<>(perTick);
            Instant now = Instant.now();
            for (int k = 0; k < perTick; k++) batch.add(event(++counter, now));
            publish.accept(batch);
        }
        double offered = total / ((System.nanoTime() - start) / 1e9);
        for (Client c : clients) c.publisherDone();
        Histogram lags = new Histogram(3);
        long received = 0;
        long measured = 0;
        long first = Long.MAX_VALUE;
        long last = 0;
        long failed = 0;
        for (Client c : clients) {
            Map<String, String> r = c.result();
            received += Long.parseLong(r.getOrDefault("received", "0"));
            measured += Long.parseLong(r.getOrDefault("measured", "0"));
            failed += Long.parseLong(r.getOrDefault("failed", "0"));
            long f = Long.parseLong(r.getOrDefault("first", "0"));
            if (f > 0) first = Math.min(first, f);
            last = Math.max(last, Long.parseLong(r.getOrDefault("last", "0")));
            if (r.containsKey("histogram")) {
                lags.add(Histogram.decodeFromCompressedByteBuffer(
                        ByteBuffer.wrap(Base64.getDecoder().decode(r.get("histogram"))), 0));
            }
        }
        cpu.stop();
        double window = (last - first) / 1e6;
        String notes = String.format("%,d of %,d", received, (long) (total - warmup) * subscribers)
                + (failed > 0 ? ", " + failed + " connections failed" : "")
                + (bare
                        ? ""
                        : String.format(
                                "; catch-ups %.0f, replayed %,.0f",
                                registry.get("ws.catchups")
                                                .tag("reason", "overflow")
                                                .counter()
                                                .count()
                                        + registry.get("ws.catchups")
                                                .tag("reason", "gap")
                                                .counter()
                                                .count(),
                                registry.get("ws.events.replayed").counter().count()));
        // CPU per delivered message over the whole window (warm-up included): what contention does not change much
        double messages = (double) total * subscribers;
        if (print)
            System.out.printf(
                    "%-9s %5d %8d %9.0f %10.0f %7.1f %7.1f %7.0f %5.0f%% %5.0f%% %5.0f%% %7.2f %7.2f %5.1f  %s%n",
                    server,
                    subscribers,
                    rate,
                    offered,
                    window > 0 ? measured / window : 0,
                    ms(lags, 50),
                    ms(lags, 99),
                    lags.getTotalCount() == 0 ? 0 : lags.getMaxValue() / 1000.0,
                    cpu.server(),
                    cpu.clients(),
                    cpu.other(),
                    cpu.serverSeconds / messages * 1e6,
                    cpu.clientSeconds / messages * 1e6,
                    load,
                    notes);
        for (Client c : clients) c.close();
        endpoint.close();
        bareServer.close();
        app.stop();
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static StoredEvent event(int counter, Instant created) {
        JobEvent e = new JobEvent(
                JOB,
                counter,
                "1-" + counter,
                "",
                "runner_on_ok",
                "{\"host\":\"host" + counter % 7 + "\",\"task\":\"task " + counter / 50 + "\"}",
                "job 1 line " + counter + " \u001b[0;32mok\u001b[0m",
                counter,
                counter + 1,
                0,
                "host" + counter % 7,
                "site.yml",
                "all",
                "",
                "task " + counter / 50,
                false,
                false,
                created,
                false,
                created);
        return new StoredEvent(counter, e, created);
    }

    private static double loadAverage() throws IOException {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    /**
     * One client process ({@link FanoutClients}): its stdout read on a thread of its own, so that a chatty client
     * never blocks. Also bench/connections' subscribers.
     */
    static final class Client {
        final Process process;
        final BlockingQueue<String> ready = new ArrayBlockingQueue<>(1);
        final BlockingQueue<String> result = new ArrayBlockingQueue<>(1);
        volatile long cpuTicksAtResult = -1;

        Client(String uri, int n, int total, int warmup, String subscribe) throws IOException {
            this(uri, n, total, warmup, subscribe, List.of("-Xmx256m"), Map.of());
        }

        /**
         * @param jvmOptions  heap and {@code -Dfanout.*} properties of {@link FanoutClients}
         * @param environment added to the process's (e.g. {@code JOBSTREAM_AUTHORIZATION})
         */
        Client(
                String uri,
                int n,
                int total,
                int warmup,
                String subscribe,
                List<String> jvmOptions,
                Map<String, String> environment)
                throws IOException {
            List<String> command = new ArrayList<>(List.of(javaBin(), "-XX:+UseSerialGC"));
            command.addAll(jvmOptions);
            command.addAll(List.of(
                    "-cp",
                    System.getProperty("java.class.path"),
                    FanoutClients.class.getName(),
                    uri,
                    Integer.toString(n),
                    Integer.toString(total),
                    Integer.toString(warmup),
                    subscribe));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().putAll(environment);
            process = pb.start();
            Thread reader = new Thread(
                    () -> {
                        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream()))) {
                            String line;
                            while ((line = out.readLine()) != null) {
                                if (line.equals("READY")) {
                                    ready.offer(line);
                                } else if (line.startsWith("RESULT ")) {
                                    cpuTicksAtResult = Cpu.ticks(process.pid());
                                    result.offer(line);
                                } else {
                                    System.err.println("clients: " + line);
                                }
                            }
                        } catch (IOException ignored) {
                            // the process ended
                        }
                        ready.offer("ended");
                        result.offer("RESULT");
                    },
                    "client-output");
            reader.setDaemon(true);
            reader.start();
        }

        void awaitReady() throws Exception {
            String line =
                    ready.poll(600, TimeUnit.SECONDS); // thousands of handshakes on a busy node (bench/connections)
            if (!"READY".equals(line)) throw new IllegalStateException("clients did not get ready: " + line);
        }

        /** Tells the clients the publisher is done; nothing to tell when they already ended (they had every message). */
        void publisherDone() throws IOException {
            try {
                OutputStream in = process.getOutputStream();
                in.write('\n');
                in.flush();
            } catch (IOException e) {
                // a broken pipe: the clients exited after their last message (their stdin closes as they exit)
                try {
                    if (!process.waitFor(5, TimeUnit.SECONDS)) throw e;
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }

        Map<String, String> result() throws InterruptedException {
            String line = result.poll(5, TimeUnit.MINUTES);
            Map<String, String> fields = new java.util.HashMap<>();
            if (line == null) return fields;
            for (String part : line.split(" ")) {
                int eq = part.indexOf('=');
                if (eq > 0) fields.put(part.substring(0, eq), part.substring(eq + 1));
            }
            return fields;
        }

        void close() throws InterruptedException {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }

    /** CPU over the measured window: this process, the clients, and everything else on the machine. */
    private static final class Cpu {
        static final long HZ = 100; // USER_HZ on Linux
        final List<Client> clients;
        final long startNanos = System.nanoTime();
        final long serverStart = ticks(ProcessHandle.current().pid());
        final long[] clientStart;
        final long[] machineStart = machine();
        double server;
        double clientShare;
        double serverSeconds;
        double clientSeconds;
        double other;

        Cpu(List<Client> clients) {
            this.clients = clients;
            clientStart = new long[clients.size()];
            for (int i = 0; i < clients.size(); i++)
                clientStart[i] = ticks(clients.get(i).process.pid());
        }

        void stop() {
            double capacity = (System.nanoTime() - startNanos) / 1e9 * HZ * CORES;
            long serverTicks = ticks(ProcessHandle.current().pid()) - serverStart;
            long clientTicks = 0;
            for (int i = 0; i < clients.size(); i++) {
                long end = clients.get(i).cpuTicksAtResult;
                if (end < 0) end = ticks(clients.get(i).process.pid());
                clientTicks += Math.max(0, end - clientStart[i]);
            }
            long[] machine = machine();
            long busy = machine[0] - machineStart[0];
            server = 100.0 * serverTicks / capacity;
            serverSeconds = (double) serverTicks / HZ;
            clientSeconds = (double) clientTicks / HZ;
            clientShare = 100.0 * clientTicks / capacity;
            other = Math.max(0, 100.0 * (busy - serverTicks - clientTicks) / capacity);
        }

        double server() {
            return server;
        }

        double clients() {
            return clientShare;
        }

        double other() {
            return other;
        }

        /** utime + stime of a process, in ticks; -1 when it is gone. */
        static long ticks(long pid) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        /** Busy ticks of the whole machine (all but idle and iowait). */
        static long[] machine() {
            try {
                String[] f =
                        Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long busy = 0;
                for (int i = 1; i < f.length && i <= 8; i++) if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
                return new long[] {busy};
            } catch (IOException e) {
                return new long[] {0};
            }
        }
    }

    /**
     * The bare broadcast: per session an unbounded queue and a drain on two sender threads that keeps at most
     * {@link #BARE_WINDOW} frames in Jetty's hands, as jobstream's Subscriber does, without anything else.
     */
    private static final class BareServer {
        final boolean text;
        final Map<String, BareSession> sessions = new ConcurrentHashMap<>();
        final ExecutorService senders = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bare-sender");
            t.setDaemon(true);
            return t;
        });

        BareServer(boolean text) {
            this.text = text;
        }

        void connect(WsContext ctx) {
            sessions.put(ctx.sessionId(), new BareSession(ctx.session, senders, text));
        }

        void disconnect(WsContext ctx) {
            sessions.remove(ctx.sessionId());
        }

        void broadcast(Item frame) {
            for (BareSession s : sessions.values()) s.offer(frame);
        }

        void close() {
            senders.shutdownNow();
        }
    }

    /** One event's frame, as text and encoded once. */
    private record Item(String text, byte[] utf8) {}

    private static final class BareSession {
        final CoreSession session;
        final Session apiSession;
        final boolean text;
        final ExecutorService senders;
        final ConcurrentLinkedQueue<Item> queue = new ConcurrentLinkedQueue<>();
        final AtomicBoolean draining = new AtomicBoolean();
        final AtomicInteger sending = new AtomicInteger();
        final org.eclipse.jetty.util.Callback done = org.eclipse.jetty.util.Callback.from(this::sent, t -> {});

        BareSession(Session session, ExecutorService senders, boolean text) {
            this.session = ((WebSocketSession) session).getCoreSession();
            this.apiSession = session;
            this.text = text;
            this.senders = senders;
        }

        void offer(Item frame) {
            queue.add(frame);
            if (draining.compareAndSet(false, true)) senders.execute(this::drain);
        }

        void drain() {
            while (true) {
                if (sending.get() >= BARE_WINDOW) {
                    draining.set(false);
                    if (sending.get() >= BARE_WINDOW || !draining.compareAndSet(false, true)) return;
                    continue;
                }
                Item frame = queue.poll();
                if (frame == null) {
                    draining.set(false);
                    if (queue.isEmpty() || !draining.compareAndSet(false, true)) return;
                    continue;
                }
                sending.incrementAndGet();
                if (text) { // Jetty's API call, which encodes the text per session (what jobstream did before)
                    apiSession.sendText(
                            frame.text(), org.eclipse.jetty.websocket.api.Callback.from(this::sent, t -> {}));
                } else {
                    session.sendFrame(
                            new Frame(OpCode.TEXT, ByteBuffer.wrap(frame.utf8())), done, false); // as FrameSender.Jetty
                }
            }
        }

        void sent() {
            sending.decrementAndGet();
            if (!queue.isEmpty() && draining.compareAndSet(false, true)) senders.execute(this::drain);
        }
    }

    private static String javaBin() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
