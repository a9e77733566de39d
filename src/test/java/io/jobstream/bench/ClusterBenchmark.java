package io.jobstream.bench;

import static org.awaitility.Awaitility.await;

import io.jobstream.metrics.Metrics;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cluster against single node, same machine, same run (run by {@code bench/cluster}; not a test). Both setups use
 * node processes (separate JVMs) and the same kind of PostgreSQL (embedded, fsync on, started here):
 * <ul>
 *   <li>single: one node in embedded mode (in-process queue and broadcast);</li>
 *   <li>cluster: two nodes sharing that PostgreSQL and one Debian redis-server (AOF, fsync every second).</li>
 * </ul>
 * For each: stored events/s (4 emitters post as fast as they can, spread over the nodes; the clock stops when every
 * row is committed), then end-to-end lag created → websocket at a steady rate with subscribers spread over the nodes.
 * Arguments: [events=100000] [lag-rate=2000] [subscribers=20] [lag-seconds=10].
 */
public final class ClusterBenchmark {
    /** As a node would run in production (the tests' JVM options trade speed for start-up time). */
    private static final List<String> JVM = List.of("-Xmx1g");

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        int subscribers = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        Path dir = TempDirs.make("jobstream-cluster-bench");
        List<String> results = new ArrayList<>();
        try (EmbeddedDatabase pg = new EmbeddedDatabase(dir.resolve("pg-single"))) {
            String url = pg.start(); // postgresql://jobstream:<password>@127.0.0.1:<port>/postgres
            try (NodeProcess single =
                    NodeProcess.start("single", dir.resolve("single"), Map.of("database-url", url), JVM)) {
                results.add(run(
                        "single node (embedded queue)",
                        List.of(single),
                        events,
                        rate,
                        subscribers,
                        seconds,
                        1_000_000));
            }
        }
        try (EmbeddedDatabase pg = new EmbeddedDatabase(dir.resolve("pg-cluster"));
                RedisServer redis = RedisServer.start(dir.resolve("redis"), true)) {
            String url = pg.start(); // postgresql://jobstream:<password>@127.0.0.1:<port>/postgres
            Map<String, String> settings =
                    Map.of("database-url", url, "redis-url", redis.url(), "queue.capacity", "200000");
            try (NodeProcess a = NodeProcess.start("bench-a", dir.resolve("a"), settings, JVM);
                    NodeProcess b = NodeProcess.start("bench-b", dir.resolve("b"), settings, JVM)) {
                results.add(run("2 nodes + Redis", List.of(a, b), events, rate, subscribers, seconds, 2_000_000));
            }
        }
        System.out.println();
        System.out.println("| setup | stored events/s | lag p50 | lag p99 | lag max | delivered | non-200 posts |");
        System.out.println("|---|---|---|---|---|---|---|");
        results.forEach(System.out::println);
    }

    private static String run(
            String setup, List<NodeProcess> nodes, int events, int rate, int subscribers, int seconds, long firstJob)
            throws Exception {
        double perSecond = throughput(nodes, events, firstJob);
        System.out.printf("%s: %.0f stored events/s%n", setup, perSecond);
        for (NodeProcess node : nodes) { // where the time went, per node
            Http.get(node.uri("/metrics"))
                    .body()
                    .lines()
                    .filter(l ->
                            l.matches("(persist_batch_size_(count|sum)|persist_batch_duration_seconds_(count|sum|max)"
                                    + "|events_stored_total|events_duplicate_total|redis_stream_claimed_total) .*"))
                    .forEach(l -> System.out.println("  " + node.name() + " " + l));
        }
        List<Map<String, Double>> before = new ArrayList<>();
        List<Map<String, ThreadCpu.Ticks>> threadsBefore = new ArrayList<>();
        for (NodeProcess node : nodes) {
            before.add(hopTotals(node));
            threadsBefore.add(ThreadCpu.of(node.pid()));
        }
        String lag = lag(nodes, rate, subscribers, seconds, firstJob + 100);
        for (int i = 0; i < nodes.size(); i++) { // where the lag part's time went, per node and hop
            NodeProcess node = nodes.get(i);
            ThreadCpu.print(
                    "  " + node.name() + " lag part, threads (warm-up included)",
                    threadsBefore.get(i),
                    ThreadCpu.of(node.pid()),
                    (double) rate * (seconds + 5),
                    "event");
            Map<String, Double> after = hopTotals(node);
            StringBuilder hops = new StringBuilder("  " + node.name() + " lag part, mean ms per hop:");
            for (String hop : Metrics.HOPS) {
                double n =
                        after.getOrDefault(hop + "_count", 0.0) - before.get(i).getOrDefault(hop + "_count", 0.0);
                double sum =
                        after.getOrDefault(hop + "_sum", 0.0) - before.get(i).getOrDefault(hop + "_sum", 0.0);
                hops.append(String.format(" %s %.1f (%.0f)", hop, n == 0 ? 0 : 1000 * sum / n, n));
            }
            System.out.println(hops);
            Http.get(node.uri("/metrics"))
                    .body()
                    .lines()
                    .filter(l -> l.matches("(ws_disconnects_total\\{.*|ws_catchups_total\\{.*|ws_holes_skipped_total"
                            + "|ws_events_(late|replayed)_total|broadcast_relay_(published|received)_total) .*"))
                    .forEach(l -> System.out.println("  " + node.name() + " " + l));
        }
        return String.format("| %s | %.0f %s", setup, perSecond, lag);
    }

    /** The node's event_hop_seconds count and sum per hop, as "hop_count" / "hop_sum". */
    private static Map<String, Double> hopTotals(NodeProcess node) {
        Map<String, Double> totals = new HashMap<>();
        Pattern line =
                Pattern.compile("^event_hop_seconds_(count|sum)\\{[^}]*hop=\"([a-z_]+)\"[^}]*\\} ([0-9.eE+-]+)$");
        Http.get(node.uri("/metrics"))
                .body()
                .lines()
                .map(line::matcher)
                .filter(Matcher::matches)
                .forEach(m -> totals.merge(m.group(2) + "_" + m.group(1), Double.parseDouble(m.group(3)), Double::sum));
        return totals;
    }

    /** 10 jobs, requests of 500 events, 4 emitters over the nodes in turn; until every row is committed. */
    private static double throughput(List<NodeProcess> nodes, int events, long firstJob) throws Exception {
        int jobs = 10;
        int perJob = events / jobs;
        List<String> bodies = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            for (int from = 1; from <= perJob; from += 500) {
                StringBuilder body = new StringBuilder();
                for (int c = from; c < from + 500 && c <= perJob; c++)
                    body.append(Events.event(firstJob + j, c)).append('\n');
                bodies.add(body.toString());
            }
        }
        ExecutorService emitters = Executors.newFixedThreadPool(4);
        AtomicInteger turn = new AtomicInteger();
        long start = System.nanoTime();
        List<Future<?>> posts = new ArrayList<>();
        for (String body : bodies) {
            posts.add(emitters.submit(() -> {
                while (true) {
                    NodeProcess node = nodes.get(turn.getAndIncrement() % nodes.size());
                    if (Http.post(node.uri("/api/v2/job_events/ingest/"), body).statusCode() == 200) return null;
                    Thread.sleep(100); // an emitter's pause before it retries on the next node
                }
            }));
        }
        for (Future<?> f : posts) f.get(5, TimeUnit.MINUTES);
        emitters.shutdown();
        await().atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> stored(nodes.get(0), firstJob, jobs) >= (long) perJob * jobs);
        return perJob * jobs / ((System.nanoTime() - start) / 1e9);
    }

    private static long stored(NodeProcess node, long firstJob, int jobs) {
        long n = 0;
        for (int j = 0; j < jobs; j++) {
            var r = Http.get(node.uri("/api/v2/jobs/" + (firstJob + j) + "/job_events/?page_size=1"));
            if (r.statusCode() == 200) n += Http.json(r.body()).path("count").asLong(); // 404: no event committed yet
        }
        return n;
    }

    /** Steady rate into the nodes in turn (one job), subscribers spread over the nodes; 5 s of warm-up not counted. */
    private static String lag(List<NodeProcess> nodes, int rate, int subscribers, int seconds, long job)
            throws Exception {
        int tickMs = 10;
        int perTick = Math.max(1, rate * tickMs / 1000);
        int warmup = rate * 5;
        int total = warmup + perTick * (seconds * 1000 / tickMs);
        HttpClient http = HttpClient.newHttpClient();
        List<Recorder> clients = new ArrayList<>();
        for (int i = 0; i < subscribers; i++) {
            NodeProcess node = nodes.get(i % nodes.size());
            clients.add(Recorder.subscribe(http, node.websocketUri(), total, warmup, job));
        }
        Thread.sleep(500); // warm-up before the clock starts (not a wait for a condition: nothing is measured yet)
        AtomicInteger failures = new AtomicInteger();
        List<CompletableFuture<?>> posts = new ArrayList<>();
        long start = System.nanoTime();
        int counter = 0;
        for (int tick = 0; counter < total; tick++) {
            long due = start + TimeUnit.MILLISECONDS.toNanos((long) tick * tickMs);
            long wait = due - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // pacing the sender: the benchmark's load
            StringBuilder body = new StringBuilder();
            for (int k = 0; k < perTick; k++)
                body.append(Events.event(job, ++counter)).append('\n');
            URI ingest = nodes.get(tick % nodes.size()).uri("/api/v2/job_events/ingest/");
            posts.add(http.sendAsync(
                            HttpRequest.newBuilder(ingest)
                                    .header("Authorization", TestUsers.ADMIN_AUTH)
                                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .thenAccept(r -> {
                        if (r.statusCode() != 200) failures.incrementAndGet();
                    }));
        }
        CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        CompletableFuture.allOf(clients.stream().map(c -> c.done).toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, 60, TimeUnit.SECONDS)
                .join();
        long[] all = clients.stream()
                .flatMapToLong(c -> Arrays.stream(c.lagsMicros, 0, Math.min(c.count.get(), c.lagsMicros.length)))
                .sorted()
                .toArray();
        String line = String.format(
                "| %.1f ms | %.1f ms | %.1f ms | %d of %d | %d |",
                pct(all, 0.5),
                pct(all, 0.99),
                all.length == 0 ? 0 : all[all.length - 1] / 1000.0,
                all.length,
                (long) (total - warmup) * subscribers,
                failures.get());
        System.out.printf(
                "  lag at %d events/s, %d subscribers over %d node(s): %s%n", rate, subscribers, nodes.size(), line);
        return line;
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000.0;
    }

    /** A subscriber of one job that records each event's lag (now - created) on arrival and keeps nothing else. */
    static final class Recorder extends JobEventsListener {
        final long[] lagsMicros;
        final AtomicInteger count = new AtomicInteger();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final int warmup;

        Recorder(int total, int warmup) {
            this.lagsMicros = new long[total - warmup];
            this.warmup = warmup;
        }

        static Recorder subscribe(HttpClient http, URI uri, int total, int warmup, long job) {
            return subscribe(http, uri, TestUsers.ADMIN_AUTH, job, new Recorder(total, warmup));
        }

        @Override
        void event(int counter, long lag) {
            if (counter <= warmup) return;
            int n = count.getAndIncrement();
            if (n < lagsMicros.length) lagsMicros[n] = lag;
            if (n + 1 == lagsMicros.length) done.complete(null);
        }
    }
}
