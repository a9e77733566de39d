package io.jobstream.bench;

import com.sun.management.OperatingSystemMXBean;
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
import io.jobstream.websocket.WebsocketEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;

/**
 * Fan-out of one job to N websocket subscribers (run by {@code bench/fanout}; not a test). The publisher stands in
 * for the receiver: it builds committed events at a fixed rate (stamped {@code created} = now) and publishes them, so
 * what is measured is broadcast → per-subscriber sequencing and outbox → Jetty → client, without HTTP ingest or
 * PostgreSQL (an in-memory store backs catch-up). Next to it, the same bytes sent by a bare Javalin/Jetty websocket
 * broadcast (a loop of {@code sendText} over the sessions: no queue, no sequencing; the limit). The subscribers run
 * in a child JVM ({@link FanoutClients}); the CPU share reported is this (server) process's.
 *
 * <p>Arguments: seconds-per-run, then runs as {@code subscribers:rate} (events/s), e.g. {@code 5 1:20000 10:10000}.
 */
public final class FanoutBenchmark {
    private static final long JOB = 1;
    private static final int TICK_MS = 10;

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        System.out.printf("%-9s %11s %9s %12s %14s %9s %9s %9s %6s%n", "server", "subscribers", "events/s",
                "offered/s", "delivered/s", "p50 ms", "p99 ms", "max ms", "CPU");
        for (int i = 1; i < args.length; i++) {
            String[] run = args[i].split(":");
            int subscribers = Integer.parseInt(run[0]);
            int rate = Integer.parseInt(run[1]);
            for (boolean bare : new boolean[] {true, false}) runOnce(bare, subscribers, rate, seconds);
        }
        System.exit(0);
    }

    private static void runOnce(boolean bare, int subscribers, int rate, int seconds) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Hub hub = new Hub(registry);
        MemoryEventSource store = new MemoryEventSource();
        MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);
        Set<WsContext> sessions = ConcurrentHashMap.newKeySet();
        WebsocketEndpoint endpoint = new WebsocketEndpoint(new Config.WsConfig(10_000), hub, store,
                Clock.systemUTC(), registry, ctx -> OptionalLong.of(1), (user, job) -> true);
        Javalin app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            if (bare) {
                cfg.routes.ws("/bare/", ws -> {
                    ws.onConnect(sessions::add);
                    ws.onClose(sessions::remove);
                });
            } else {
                endpoint.register(cfg.routes);
            }
        }).start("127.0.0.1", 0);
        int perTick = Math.max(1, rate * TICK_MS / 1000);
        int warmup = Math.min(perTick * 100, perTick * (seconds * 1000 / TICK_MS) / 3); // the first second or third
        int total = perTick * (seconds * 1000 / TICK_MS);
        String uri = "ws://127.0.0.1:" + app.port() + (bare ? "/bare/" : "/websocket/");
        String subscribe = bare ? "-" : "{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[" + JOB + "]}}";
        Process clients = new ProcessBuilder(javaBin(), "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                FanoutClients.class.getName(), uri, Integer.toString(subscribers), Integer.toString(total),
                Integer.toString(warmup), subscribe).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(clients.getInputStream()));
        String line;
        while ((line = out.readLine()) != null && !line.equals("READY")) System.err.println("clients: " + line);
        if (bare) while (sessions.size() < subscribers) Thread.sleep(10);

        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuStart = os.getProcessCpuTime();
        long start = System.nanoTime();
        Consumer<List<StoredEvent>> publish = bare ? batch -> {
            for (StoredEvent e : batch) {
                String frame = EventMessages.event(e);
                for (WsContext s : sessions) s.session.sendText(frame, Callback.NOOP);
            }
        } : batch -> {
            batch.forEach(store::add);
            broadcaster.publish(new CommittedBatch(batch, List.of()));
        };
        int counter = 0;
        for (int tick = 0; counter < total; tick++) {
            long wait = start + TimeUnit.MILLISECONDS.toNanos((long) tick * TICK_MS) - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            List<StoredEvent> batch = new ArrayList<>(perTick);
            Instant now = Instant.now();
            for (int k = 0; k < perTick; k++) batch.add(event(++counter, now));
            publish.accept(batch);
        }
        double offered = total / ((System.nanoTime() - start) / 1e9);
        String result = null;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("RESULT")) result = line;
            else System.err.println("clients: " + line);
        }
        double cpu = (os.getProcessCpuTime() - cpuStart) / 1e9 / ((System.nanoTime() - start) / 1e9)
                / Runtime.getRuntime().availableProcessors();
        clients.waitFor(10, TimeUnit.SECONDS);
        System.out.printf("%-9s %11d %9d %12.0f %14s %9s %9s %9s %5.0f%%   (%s)%n", bare ? "bare" : "jobstream",
                subscribers, rate, offered, field(result, "rate"), field(result, "p50"), field(result, "p99"),
                field(result, "max"), cpu * 100, (result == null ? "no result" : field(result, "received") + " of "
                        + (long) total * subscribers + " received") + (bare ? "" : String.format(
                        "; catch-ups overflow %.0f gap %.0f, replayed %.0f",
                        registry.get("ws.catchups").tag("reason", "overflow").counter().count(),
                        registry.get("ws.catchups").tag("reason", "gap").counter().count(),
                        registry.get("ws.events.replayed").counter().count())));
        endpoint.close();
        app.stop();
    }

    private static String field(String result, String name) {
        if (result == null) return "-";
        for (String part : result.split(" ")) if (part.startsWith(name + "=")) return part.substring(name.length() + 1);
        return "-";
    }

    private static StoredEvent event(int counter, Instant created) {
        JobEvent e = new JobEvent(JOB, counter, "1-" + counter, "", "runner_on_ok",
                "{\"host\":\"host" + counter % 7 + "\",\"task\":\"task " + counter / 50 + "\"}",
                "job 1 line " + counter + " \u001b[0;32mok\u001b[0m", counter, counter + 1, 0, "host" + counter % 7,
                "site.yml", "all", "", "task " + counter / 50, false, false, created, false, created);
        return new StoredEvent(counter, e, created);
    }

    private static String javaBin() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
