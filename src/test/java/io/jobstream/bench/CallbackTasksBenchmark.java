package io.jobstream.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import io.jobstream.redis.RedisKeys;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.Trees;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;

/**
 * AWX's way in, {@code callback_tasks}, in cluster mode, next to the single node's HTTP ingest of the same events in
 * the same run (run by {@code bench/callback-tasks}; not a test).
 * <ul>
 *   <li>single: one node in embedded mode, 4 emitters posting 500-event requests (the baseline);</li>
 *   <li>cluster: two nodes sharing one PostgreSQL and one redis-server (AOF, fsync every second); producer threads
 *       RPUSH one payload per event onto {@code callback_tasks} as AWX's producer does (pipelined 100 at a time, so
 *       this JVM is not the limit), and the nodes take them.</li>
 * </ul>
 * The clock stops when every event is committed (the sum of the nodes' {@code events_stored_total}); each round
 * then checks that every job holds all its events and that nothing was dead-lettered. CPU per process from /proc
 * over the round: node JVMs, redis-server, PostgreSQL (postmaster and backends). Both mixes: synthetic ~230-byte
 * events and the recorded real run of {@code src/main/resources/demo} (median 1.2 KB, p99 32 KB).
 * Arguments: [events=100000] [mix=both|synthetic|recorded] [rounds=2] [producers=4].
 * Then, in cluster mode, a paced part: CBT_PACED_RATE events/s (default 5000; 0 = none) for 10 s, created when
 * pushed, for the wait in callback_tasks when the nodes keep up (created→received).
 * Environment: CBT_NODE_OPTS extra node JVM flags (e.g. a JFR recording; {@code %n} is replaced by the node name).
 */
public final class CallbackTasksBenchmark {
    private static final int JOBS = 10;
    private static final double TICK_MICROS = 1e6 / ProcessCpu.HZ;

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String mixes = args.length > 1 ? args[1] : "both";
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int producers = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        Path dir = Files.createTempDirectory("jobstream-cbt-bench");
        System.out.printf("load average before: %s%n", ProcessCpu.loadAverage());
        List<String> rows = new ArrayList<>();
        try {
            for (String mix : mixes.equals("both") ? List.of("synthetic", "recorded") : List.of(mixes)) {
                Mix m = new Mix(mix.equals("recorded"));
                rows.addAll(single(dir.resolve("single-" + mix), m, events, rounds));
                rows.addAll(cluster(dir.resolve("cluster-" + mix), m, events, rounds, producers));
            }
        } finally {
            Trees.delete(dir); // the databases and Redis' AOF of a 200,000-event run take about 3.7 GB of /tmp
        }
        System.out.printf("load average after: %s%n%n", ProcessCpu.loadAverage());
        System.out.println("| mix | setup | round | stored events/s | wall s | CPU µs/event: nodes (each) | redis |"
                + " postgres | total | machine busy (cores) | delivered | dead-lettered |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    private static List<String> single(Path dir, Mix mix, int events, int rounds) throws Exception {
        List<String> rows = new ArrayList<>();
        try (BenchPostgres pg = BenchPostgres.start(dir.resolve("pg"), "CBT_PG")) {
            String url = pg.url();
            try (NodeProcess node =
                    NodeProcess.start("single", dir.resolve("node"), Map.of("database-url", url), jvm("single"))) {
                Http.get(node.uri("/api/v2/me/")); // the credential checked once before 4 emitters start
                for (int r = 1; r <= rounds; r++) {
                    long firstJob = 1_000_000L * r;
                    List<String> bodies = bodies(mix, events, firstJob);
                    Cpu before = Cpu.sample(List.of(node), -1, pg.data());
                    var threads0 = ThreadCpu.of(node.pid());
                    double stored0 = stored(List.of(node));
                    long t0 = System.nanoTime();
                    postAll(node, bodies);
                    awaitStored(List.of(node), stored0 + events);
                    long nanos = System.nanoTime() - t0;
                    Cpu after = Cpu.sample(List.of(node), -1, pg.data());
                    ThreadCpu.print(
                            "single node's threads, round " + r, threads0, ThreadCpu.of(node.pid()), events, "event");
                    rows.add(row(
                            mix,
                            "single node, HTTP ingest",
                            r,
                            events,
                            nanos,
                            before,
                            after,
                            List.of(node),
                            firstJob,
                            null));
                    System.out.println(rows.get(rows.size() - 1));
                }
            }
        }
        return rows;
    }

    private static List<String> cluster(Path dir, Mix mix, int events, int rounds, int producers) throws Exception {
        List<String> rows = new ArrayList<>();
        try (BenchPostgres pg = BenchPostgres.start(dir.resolve("pg"), "CBT_PG");
                RedisServer server = RedisServer.start(dir.resolve("redis"), true)) {
            String url = pg.url();
            Map<String, String> settings =
                    Map.of("database-url", url, "redis-url", server.url(), "queue.capacity", "200000");
            try (RedisClient redis = RedisKeys.connect(server.url(), producers + 2);
                    NodeProcess a = NodeProcess.start("cbt-a", dir.resolve("a"), settings, jvm("cbt-a"));
                    NodeProcess b = NodeProcess.start("cbt-b", dir.resolve("b"), settings, jvm("cbt-b"))) {
                long redisPid = Long.parseLong(redis.info("server")
                        .lines()
                        .filter(l -> l.startsWith("process_id:"))
                        .findFirst()
                        .orElseThrow()
                        .substring("process_id:".length())
                        .trim());
                List<NodeProcess> nodes = List.of(a, b);
                for (int r = 1; r <= rounds; r++) {
                    long firstJob = 1_000_000L * r;
                    long made = System.nanoTime();
                    String[][] payloads = payloads(mix, events, firstJob);
                    double makeSeconds = (System.nanoTime() - made) / 1e9;
                    Map<String, long[]> commands0 = commandStats(redis);
                    Cpu before = Cpu.sample(nodes, redisPid, pg.data());
                    List<Map<String, ThreadCpu.Ticks>> threads0 = new ArrayList<>();
                    for (NodeProcess n : nodes) threads0.add(ThreadCpu.of(n.pid()));
                    double stored0 = stored(nodes);
                    Map<String, Double> hops0 = hops(nodes);
                    AtomicLong longest = new AtomicLong();
                    long t0 = System.nanoTime();
                    push(redis, payloads, producers, longest);
                    awaitStored(nodes, stored0 + events);
                    long nanos = System.nanoTime() - t0;
                    Cpu after = Cpu.sample(nodes, redisPid, pg.data());
                    for (int i = 0; i < nodes.size(); i++) {
                        ThreadCpu.print(
                                "node " + nodes.get(i).name() + "'s threads, round " + r,
                                threads0.get(i),
                                ThreadCpu.of(nodes.get(i).pid()),
                                events,
                                "event");
                    }
                    Map<String, Double> hops1 = hops(nodes);
                    // the recorded events keep the recording's created time: their created→received says nothing
                    String hopText = String.format(
                            "created→received %s (payloads made %.1f s before the clock), received→committed %.0f ms"
                                    + " mean, longest callback_tasks %d",
                            mix.recorded
                                    ? "n/a"
                                    : String.format("%.0f ms mean", mean(hops0, hops1, "created_received")),
                            makeSeconds,
                            mean(hops0, hops1, "received_committed"),
                            longest.get());
                    rows.add(
                            row(mix, "2 nodes, callback_tasks", r, events, nanos, before, after, nodes, firstJob, redis)
                                    + " " + hopText);
                    System.out.println(rows.get(rows.size() - 1));
                    System.out.println(commandText(commands0, commandStats(redis), events));
                }
                int rate = Integer.parseInt(System.getenv().getOrDefault("CBT_PACED_RATE", "5000"));
                if (rate > 0) {
                    String paced = paced(redis, nodes, mix, rate, 10, 1_000_000L * (rounds + 1));
                    rows.add(paced);
                    System.out.println(paced);
                }
            }
        }
        return rows;
    }

    /**
     * A steady rate, below what the nodes take, for {@code seconds}: each 10 ms tick RPUSHes its share, made at that
     * moment (created = now), so created→received is the wait in callback_tasks plus the move and decode.
     */
    private static String paced(RedisClient redis, List<NodeProcess> nodes, Mix mix, int rate, int seconds, long job)
            throws Exception {
        int perTick = Math.max(1, rate / 100);
        int ticks = seconds * 100;
        double stored0 = stored(nodes);
        Map<String, Double> hops0 = hops(nodes);
        long start = System.nanoTime();
        int counter = 0;
        for (int tick = 0; tick < ticks; tick++) {
            long wait = start + tick * 10_000_000L - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // the producer's pace: the load of this part
            try (AbstractPipeline p = redis.pipelined()) {
                for (int k = 0; k < perTick; k++) p.rpush(RedisKeys.CALLBACK_TASKS, mix.freshEvent(job, ++counter));
                p.sync();
            }
        }
        double late = (System.nanoTime() - start) / 1e9 - seconds;
        awaitStored(nodes, stored0 + counter);
        Map<String, Double> hops1 = hops(nodes);
        return String.format(
                "| %s | 2 nodes, callback_tasks, paced %,d events/s for %d s | | | | | | | | | %d | | created→received %.1f"
                        + " ms mean, received→committed %.1f ms mean, producer behind its schedule by %.2f s at the end",
                mix.recorded ? "recorded" : "synthetic",
                rate,
                seconds,
                counter,
                mean(hops0, hops1, "created_received"),
                mean(hops0, hops1, "received_committed"),
                Math.max(0, late));
    }

    private static List<String> jvm(String node) {
        List<String> options = new ArrayList<>(List.of("-Xmx1g"));
        String extra = System.getenv().getOrDefault("CBT_NODE_OPTS", "").trim();
        if (!extra.isEmpty())
            options.addAll(Arrays.asList(extra.replace("%n", node).split("\\s+")));
        return options;
    }

    /** Requests of 500 events of one job each, JOBS jobs (made before the clock starts). */
    private static List<String> bodies(Mix mix, int events, long firstJob) {
        List<String> bodies = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        int perJob = events / JOBS;
        for (int j = 0; j < JOBS; j++) {
            for (int c = 1; c <= perJob; c++) {
                body.append(mix.event(firstJob + j, c)).append('\n');
                if (c % 500 == 0 || c == perJob) {
                    bodies.add(body.toString());
                    body.setLength(0);
                }
            }
        }
        return bodies;
    }

    /** One payload per event, [job][counter - 1] (made before the clock starts). */
    private static String[][] payloads(Mix mix, int events, long firstJob) {
        int perJob = events / JOBS;
        String[][] payloads = new String[JOBS][perJob];
        for (int j = 0; j < JOBS; j++)
            for (int c = 1; c <= perJob; c++) payloads[j][c - 1] = mix.event(firstJob + j, c);
        return payloads;
    }

    /** 4 emitters post the requests, as bench/cluster does. */
    private static void postAll(NodeProcess node, List<String> bodies) throws Exception {
        ExecutorService emitters = Executors.newFixedThreadPool(4);
        List<Future<?>> posts = new ArrayList<>();
        for (String b : bodies) {
            posts.add(emitters.submit(() -> {
                var reply = Http.post(node.uri("/api/v2/job_events/ingest/"), b);
                if (reply.statusCode() != 200) throw new IllegalStateException("ingest answered " + reply.statusCode());
                return null;
            }));
        }
        for (Future<?> f : posts) f.get(5, TimeUnit.MINUTES);
        emitters.shutdown();
    }

    /**
     * Producer threads RPUSH one payload per event (AWX's producer sends one RPUSH per event; here 100 of them go per
     * pipeline so the producer is not the limit). Jobs are interleaved over the threads as AWX's many runners are.
     */
    private static void push(RedisClient redis, String[][] payloads, int producers, AtomicLong longest)
            throws Exception {
        int perJob = payloads[0].length;
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(producers + 1);
        Future<?> watcher = pool.submit(
                () -> { // how long the list grew: the backlog waiting for the nodes
                    while (!Thread.currentThread().isInterrupted()) {
                        longest.accumulateAndGet(redis.llen(RedisKeys.CALLBACK_TASKS), Math::max);
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
        List<Future<?>> threads = new ArrayList<>();
        for (int t = 0; t < producers; t++) {
            threads.add(pool.submit(() -> {
                // chunk k = counters [100k+1, 100k+100] of every job in turn
                for (int chunk = next.getAndIncrement(); chunk * 100 < perJob * JOBS; chunk = next.getAndIncrement()) {
                    int job = chunk % JOBS;
                    int from = (chunk / JOBS) * 100 + 1;
                    try (AbstractPipeline p = redis.pipelined()) {
                        for (int c = from; c < from + 100 && c <= perJob; c++)
                            p.rpush(RedisKeys.CALLBACK_TASKS, payloads[job][c - 1]);
                        p.sync();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : threads) f.get(5, TimeUnit.MINUTES);
        watcher.cancel(true);
        pool.shutdown();
    }

    private static double stored(List<NodeProcess> nodes) {
        double n = 0;
        for (NodeProcess node : nodes) n += MetricsText.value(node.uri("/metrics"), "events_stored_total ");
        return n;
    }

    /**
     * Until the nodes have stored {@code target} events. A {@code /metrics} scrape costs a node ~1 ms of CPU (every 50
     * ms it was ~2 µs per event): sleeps half the remaining events' time at the rate so far, 5–250 ms.
     */
    private static void awaitStored(List<NodeProcess> nodes, double target) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + Duration.ofMinutes(10).toNanos();
        double first = stored(nodes);
        double now = first;
        while (now < target) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("stored " + now + " of " + target);
            double elapsed = (System.nanoTime() - start) / 1e9;
            double rate = (now - first) / Math.max(elapsed, 1e-3);
            double remaining = rate > 0 ? (target - now) / rate : 0.25;
            Thread.sleep(Math.max(5, Math.min(250, (long) (remaining * 500))));
            now = stored(nodes);
        }
    }

    /** event_hop_seconds count and sum per hop over the nodes, as "hop_count" / "hop_sum". */
    private static Map<String, Double> hops(List<NodeProcess> nodes) {
        Map<String, Double> totals = new LinkedHashMap<>();
        var line = java.util.regex.Pattern.compile(
                "^event_hop_seconds_(count|sum)\\{[^}]*hop=\"([a-z_]+)\"[^}]*\\} ([0-9.eE+-]+)$");
        for (NodeProcess node : nodes) {
            Http.get(node.uri("/metrics"))
                    .body()
                    .lines()
                    .map(line::matcher)
                    .filter(m -> m.matches())
                    .forEach(m ->
                            totals.merge(m.group(2) + "_" + m.group(1), Double.parseDouble(m.group(3)), Double::sum));
        }
        return totals;
    }

    private static double mean(Map<String, Double> before, Map<String, Double> after, String hop) {
        double n = after.getOrDefault(hop + "_count", 0.0) - before.getOrDefault(hop + "_count", 0.0);
        double s = after.getOrDefault(hop + "_sum", 0.0) - before.getOrDefault(hop + "_sum", 0.0);
        return n == 0 ? 0 : 1000 * s / n;
    }

    private static String row(
            Mix mix,
            String setup,
            int round,
            int events,
            long nanos,
            Cpu before,
            Cpu after,
            List<NodeProcess> nodes,
            long firstJob,
            RedisClient redis) {
        long delivered = 0;
        for (int j = 0; j < JOBS; j++) {
            var r = Http.get(
                    nodes.get(j % nodes.size()).uri("/api/v2/jobs/" + (firstJob + j) + "/job_events/?page_size=1"));
            if (r.statusCode() == 200)
                delivered += Http.json(r.body()).path("count").asLong();
        }
        long dead = redis == null ? 0 : redis.exists(RedisKeys.DEAD) ? redis.xlen(RedisKeys.DEAD) : 0;
        StringBuilder each = new StringBuilder();
        double nodesMicros = 0;
        for (int i = 0; i < before.nodes.length; i++) {
            double us = (after.nodes[i] - before.nodes[i]) * TICK_MICROS / events;
            nodesMicros += us;
            each.append(i == 0 ? "" : " + ").append(String.format("%.1f", us));
        }
        double redisMicros = (after.redis - before.redis) * TICK_MICROS / events;
        double pgMicros = (after.pg - before.pg) * TICK_MICROS / events;
        double wallTicks = nanos / 1e9 * ProcessCpu.HZ; // machine busy in cores (/proc/stat counts every core)
        return String.format(
                "| %s | %s | %d | %,.0f | %.1f | %.1f (%s) | %.1f | %.1f | %.1f | %.2f | %d of %d | %d |",
                mix.recorded ? "recorded" : "synthetic",
                setup,
                round,
                events / (nanos / 1e9),
                nanos / 1e9,
                nodesMicros,
                each,
                redisMicros,
                pgMicros,
                nodesMicros + redisMicros + pgMicros,
                (after.machine - before.machine) / wallTicks,
                delivered,
                (long) events / JOBS * JOBS,
                dead);
    }

    /** Redis's own count of calls and microseconds per command ({@code INFO commandstats}), by command name. */
    static Map<String, long[]> commandStats(RedisClient redis) {
        Map<String, long[]> stats = new LinkedHashMap<>();
        for (String line : redis.info("commandstats").lines().toList()) {
            if (!line.startsWith("cmdstat_")) continue;
            String name = line.substring("cmdstat_".length(), line.indexOf(':'));
            long calls = 0;
            long usec = 0;
            for (String kv : line.substring(line.indexOf(':') + 1).split(",")) {
                if (kv.startsWith("calls=")) calls = Long.parseLong(kv.substring(6));
                if (kv.startsWith("usec=")) usec = Long.parseLong(kv.substring(5));
            }
            stats.put(name, new long[] {calls, usec});
        }
        return stats;
    }

    /** The commands of a round, busiest first: calls per 1,000 events and Redis µs per event in each. */
    static String commandText(Map<String, long[]> before, Map<String, long[]> after, int events) {
        List<String> parts = new ArrayList<>();
        after.entrySet().stream()
                .map(e -> {
                    long[] b = before.getOrDefault(e.getKey(), new long[2]);
                    return Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]});
                })
                .filter(e -> e.getValue()[0] > 0)
                .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
                .forEach(e -> parts.add(String.format(
                        "%s %.1f calls/1k events %.2f µs/event",
                        e.getKey(), 1000.0 * e.getValue()[0] / events, (double) e.getValue()[1] / events)));
        return "  redis commandstats: " + String.join("; ", parts);
    }

    /** CPU ticks of each node JVM, redis-server and PostgreSQL (postmaster and backends), and the machine. */
    record Cpu(long[] nodes, long redis, long pg, long machine) {
        static Cpu sample(List<NodeProcess> nodes, long redisPid, Path pgData) {
            long[] n = new long[nodes.size()];
            for (int i = 0; i < n.length; i++)
                n[i] = ProcessCpu.ticks(nodes.get(i).pid());
            return new Cpu(
                    n,
                    redisPid < 0 ? 0 : ProcessCpu.ticks(redisPid),
                    ProcessCpu.postgresTicks(pgData),
                    ProcessCpu.machineTicks());
        }
    }

    /** Synthetic ~230-byte events, or the 788 events of the recorded run over and over with the job id and counter. */
    static final class Mix {
        final boolean recorded;
        private final List<ObjectNode> events;

        Mix(boolean recorded) {
            this.recorded = recorded;
            this.events = recorded ? load() : List.of();
        }

        /** As {@link #event}, created now (the recorded events otherwise keep the recording's time). */
        String freshEvent(long job, int counter) {
            if (!recorded) return Events.event(job, counter);
            ObjectNode e = events.get((counter - 1) % events.size()).deepCopy();
            e.put("job_id", job);
            e.put("counter", counter);
            e.put("created", Timestamps.format(Instant.now()));
            return e.toString();
        }

        String event(long job, int counter) {
            if (!recorded) return Events.event(job, counter);
            ObjectNode e = events.get((counter - 1) % events.size()).deepCopy();
            e.put("job_id", job);
            e.put("counter", counter);
            return e.toString();
        }

        private static List<ObjectNode> load() {
            List<ObjectNode> events = new ArrayList<>();
            try (var in = CallbackTasksBenchmark.class.getResourceAsStream("/demo/ansible-runner-events.jsonl.gz");
                    var reader = new BufferedReader(
                            new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine())
                    events.add((ObjectNode) Json.MAPPER.readTree(line));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return events;
        }
    }
}
