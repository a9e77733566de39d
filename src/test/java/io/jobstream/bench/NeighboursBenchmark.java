package io.jobstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.Trees;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One user abuses a node while another watches a job (run by {@code bench/neighbours}; not a test). The same node
 * (its own JVM, {@value #HEAP}) runs two phases of the same length: "quiet", where the watcher alone watches a job fed
 * at a steady rate and reads REST pages, and "abused", the same while a second ordinary user runs every abuse of
 * issue 13 at once: websockets that subscribe to a job of big events with {@code resume} and never read, stalled
 * stdout downloads, launch-then-cancel of a slow playbook, a flood of EOF lines over job ids, ids spread to create
 * partitions, no-op PATCHes of itself, subscribe messages naming 100 jobs, a 20,000,000-character job name, and
 * password guessing. It prints, per phase, the watcher's websocket lag (created to arrival) and REST latency
 * percentiles, the node's largest heap, whether every event arrived once and in order, and what each abuse got
 * back. The target (issue 13): lag p99 and REST p99 within 2x of the quiet phase, heap under its bound, nothing lost.
 *
 * <p>Three processes: the node, this one (the watcher), and the abuser ({@link AbuserClient}: its own JVM at low CPU
 * priority, or {@code NEIGHBOURS_ABUSER=inproc} for threads of this JVM). Each phase also reports the CPU seconds each
 * spent over the measured window (from /proc), so that what the node itself spent while abused shows apart from what
 * the abusing client spent sending.
 *
 * <p>Arguments: [seconds=20] [rate=2000]. Environment: {@code NEIGHBOURS_ABUSES} (which abuses run, see
 * {@link NeighboursAbuser#start}), {@code NEIGHBOURS_ABUSER} ({@code process}, the default, or {@code inproc}),
 * {@code NEIGHBOURS_NODE_SETTINGS} ({@code key=value,...} for the node).
 */
public final class NeighboursBenchmark {
    private static final String HEAP = "-Xmx1g";
    private static final String WATCHER = "watcher";
    static final String ABUSER = "abuser";
    static final String PASSWORD = "neighbour-password-1";
    private static final Pattern HEAP_LINE =
            Pattern.compile("^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*\\} (\\S+)$");

    /**
     * The shipped playbooks and the bench's own {@code burn.yml} (one busy process for {@code secs}; for the
     * {@code burn} abuse), copied so that the shipped directory (the demo's) gets no bench playbook.
     */
    private static Path playbooks(Path dir) throws java.io.IOException {
        Files.createDirectories(dir);
        try (var files = Files.list(Path.of("playbooks"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        Files.writeString(dir.resolve("burn.yml"), """
                - name: Burn CPU
                  hosts: local
                  connection: local
                  gather_facts: false
                  vars:
                    secs: 25
                  tasks:
                    - name: Busy
                      ansible.builtin.command: >-
                        python3 -c "import time; t = time.time() + {{ secs | int }};
                        [0 for _ in iter(lambda: time.time() < t, False)]"
                """);
        return dir.toAbsolutePath();
    }

    private static final boolean KEEP = "1".equals(System.getenv("NEIGHBOURS_KEEP"));

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
        Path dir = Files.createTempDirectory("jobstream-neighbours-bench");
        Path playbooks = playbooks(dir.resolve("playbooks"));
        Map<String, String> settings = new TreeMap<>(Map.of("playbook-dir", playbooks.toString()));
        String extra = System.getenv("NEIGHBOURS_NODE_SETTINGS"); // "key=value,key=value": try a limit's effect
        if (extra != null && !extra.isBlank()) {
            for (String kv : extra.split(","))
                settings.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        boolean inProcess = "inproc".equals(System.getenv("NEIGHBOURS_ABUSER"));
        System.out.println("load average before: " + ProcessCpu.loadAverage());
        AbuserClient abuser = null;
        List<String> nodeJvm = new ArrayList<>(List.of(HEAP));
        String nodeOpts = System.getenv("NEIGHBOURS_NODE_JAVA_OPTS"); // e.g. a JFR recording of the node
        if (nodeOpts != null && !nodeOpts.isBlank())
            nodeJvm.addAll(List.of(nodeOpts.trim().split("\\s+")));
        try (NodeProcess node = NodeProcess.start("neighbours", dir.resolve("node"), settings, nodeJvm)) {
            long abuserId = createUser(node, ABUSER);
            createUser(node, WATCHER);
            Path pgData = dir.resolve("node/data/pg");
            List<String> rows = new ArrayList<>();
            // A young node spends most of its CPU in the JIT: without a warm-up the quiet phase pays for it and the
            // abused one looks better than it is. Not compared, only shown.
            Result warmUp = phase(node, pgData, Math.max(10, seconds), rate, null);
            rows.add(warmUp.row("warm-up (not compared)"));
            Result quiet = phase(node, pgData, seconds, rate, null);
            rows.add(quiet.row("quiet (watcher alone)"));
            abuser = new AbuserClient(node.uri("/"), node.websocketUri(), abuserId, inProcess);
            Result abused = phase(node, pgData, seconds, rate, abuser);
            rows.add(abused.row("abused (one user runs every abuse)"));
            Map<String, Map<String, Long>> outcomes = abuser.stop();
            // the same quiet phase again: does the node recover, and how noisy is the machine (quiet vs after)
            Result after = phase(node, pgData, seconds, rate, null);
            rows.add(after.row("after (watcher alone again)"));
            System.out.println();
            System.out.println(
                    "| phase | ws lag p50 | ws lag p99 | ws lag max | REST p50 | REST p99 | heap max | delivered | in order |");
            System.out.println("|---|---|---|---|---|---|---|---|---|");
            rows.forEach(System.out::println);
            System.out.printf(
                    "%nratios abused/quiet: ws lag p99 %.2fx, REST p99 %.2fx (target <= 2x); after/quiet: ws lag p99"
                            + " %.2fx (noise and recovery); heap max %.0f MB of %s%n",
                    abused.lagP99 / Math.max(0.001, quiet.lagP99),
                    abused.restP99 / Math.max(0.001, quiet.restP99),
                    after.lagP99 / Math.max(0.001, quiet.lagP99),
                    abused.heapMaxMb,
                    HEAP);
            System.out.println();
            System.out.println("| abuse | requests | answers |");
            System.out.println("|---|---|---|");
            outcomes.forEach((name, answers) -> System.out.printf(
                    "| %s | %d | %s |%n",
                    name, answers.values().stream().mapToLong(Long::longValue).sum(), answers));
            System.out.println();
            System.out.println(
                    "CPU seconds over each measured window (utime + stime from /proc); abuser: " + abuser.how());
            System.out.println(Cpu.HEADER);
            System.out.println(quiet.cpu.row("quiet"));
            System.out.println(abused.cpu.row("abused"));
            System.out.println(after.cpu.row("after"));
            if (KEEP) System.out.println("node log: " + dir.resolve("node/node.log"));
        } finally {
            if (abuser != null) abuser.kill();
            if (!KEEP) Trees.delete(dir); // ~185 MB a run (the node's PostgreSQL): NEIGHBOURS_KEEP=1 keeps it
        }
    }

    private static long createUser(NodeProcess node, String name) {
        HttpResponse<String> r = Http.postJson(
                node.uri("/api/v2/users/"),
                "{\"username\":\"" + name + "\",\"password\":\"" + PASSWORD + "\"}",
                TestUsers.ADMIN_AUTH);
        if (r.statusCode() != 201)
            throw new IllegalStateException("creating " + name + ": " + r.statusCode() + " " + r.body());
        return Http.json(r.body()).path("id").asLong();
    }

    /** A fresh job of {@code user}'s, and the ingest token that feeds it: a token made without a job allocates one. */
    static JsonNode newJob(URI base, String user) {
        HttpResponse<String> r = Http.postJson(
                base.resolve("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", TestUsers.basic(user, PASSWORD));
        JsonNode token = r.statusCode() == 201 ? Http.json(r.body()) : null;
        if (token == null || !token.path("job").canConvertToLong()) {
            throw new IllegalStateException("a new job for " + user + ": " + r.statusCode() + " " + r.body());
        }
        return token;
    }

    /** The watcher's phase: a job fed at {@code rate} for {@code seconds}, watched live and read by REST. */
    private static Result phase(NodeProcess node, Path pgData, int seconds, int rate, AbuserClient abuser)
            throws Exception {
        JsonNode job = newJob(node.uri("/"), WATCHER);
        long jobId = job.get("job").asLong();
        String bearer = "Bearer " + job.get("token").asText();
        int tickMs = 10;
        int perTick = Math.max(1, rate * tickMs / 1000);
        int total = perTick * (seconds * 1000 / tickMs);
        int warmup = Math.min(total / 4, rate * 3);
        HttpClient http = HttpClient.newHttpClient();
        Watcher watcher = Watcher.subscribe(http, node.websocketUri(), jobId, total, warmup);
        AtomicBoolean running = new AtomicBoolean(true);
        long[] restMicros = new long[1_000_000];
        AtomicInteger restCount = new AtomicInteger();
        Thread rest = daemon("watcher-rest", () -> {
            URI page = node.uri("/api/v2/jobs/" + jobId + "/job_events/?page_size=50&order_by=-counter");
            while (running.get()) {
                long t0 = System.nanoTime();
                int status = Http.get(page, TestUsers.basic(WATCHER, PASSWORD)).statusCode();
                long micros = (System.nanoTime() - t0) / 1000;
                if (status == 200) {
                    int n = restCount.getAndIncrement();
                    if (n < restMicros.length) restMicros[n] = micros;
                }
                sleep(50);
            }
        });
        AtomicLong heapMax = new AtomicLong();
        Thread heap = daemon("heap-sampler", () -> {
            while (running.get()) {
                heapMax.accumulateAndGet(heapUsed(node), Math::max);
                sleep(250);
            }
        });
        if (abuser != null) abuser.start();
        Thread.sleep(300); // warm-up: the abuser and the heap sampler run before the clock starts
        AtomicInteger failures = new AtomicInteger();
        List<CompletableFuture<?>> posts = new ArrayList<>();
        Cpu cpuStart = Cpu.sample(node, pgData, abuser);
        long start = System.nanoTime();
        int counter = 0;
        for (int tick = 0; counter < total; tick++) {
            long wait = start + TimeUnit.MILLISECONDS.toNanos((long) tick * tickMs) - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // pacing the sender: the benchmark's load
            StringBuilder body = new StringBuilder();
            for (int k = 0; k < perTick; k++)
                body.append(event(jobId, ++counter)).append('\n');
            posts.add(post(http, node.uri("/api/v2/job_events/ingest/"), bearer, body.toString(), failures));
        }
        CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        watcher.done.completeOnTimeout(null, 60, TimeUnit.SECONDS).join();
        Cpu cpu = Cpu.sample(node, pgData, abuser).minus(cpuStart);
        running.set(false);
        rest.join();
        heap.join();
        // seconds since the clock started (the abuser's set-up before it is not part of the phase)
        int from = (int) ((start - watcher.startNanos) / 1_000_000_000L);
        int to = (int)
                Math.min(watcher.maxLagPerSecond.length, (System.nanoTime() - watcher.startNanos) / 1_000_000_000L + 1);
        System.out.printf(
                "  %s: watcher's largest lag (ms) per second: %s%n",
                abuser == null ? "quiet" : "abused",
                Arrays.toString(Arrays.copyOfRange(watcher.maxLagPerSecond, from, Math.max(from, to))));
        long[] lags = Arrays.stream(watcher.lagsMicros, 0, Math.min(watcher.measured.get(), watcher.lagsMicros.length))
                .sorted()
                .toArray();
        long[] restSorted = Arrays.stream(restMicros, 0, Math.min(restCount.get(), restMicros.length))
                .sorted()
                .toArray();
        return new Result(
                pct(lags, 0.5),
                pct(lags, 0.99),
                lags.length == 0 ? 0 : lags[lags.length - 1] / 1000.0,
                pct(restSorted, 0.5),
                pct(restSorted, 0.99),
                heapMax.get() / 1e6,
                watcher.received.get(),
                total,
                watcher.outOfOrder.get(),
                failures.get(),
                cpu);
    }

    /** Posts one request, again after a 503 or 429 (as an emitter must); counts a request that never got its 200. */
    private static CompletableFuture<?> post(
            HttpClient http, URI uri, String auth, String body, AtomicInteger failures) {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .header("Authorization", auth)
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).thenCompose(r -> {
            if (r.statusCode() == 200) return CompletableFuture.completedFuture(null);
            if (r.statusCode() == 503 || r.statusCode() == 429) {
                return CompletableFuture.runAsync(
                                () -> {}, CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS))
                        .thenCompose(x -> post(http, uri, auth, body, failures));
            }
            failures.incrementAndGet();
            return CompletableFuture.completedFuture(null);
        });
    }

    static String event(long job, int counter) {
        return "{\"job_id\":" + job + ",\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"n-" + job
                + "-"
                + counter + "\",\"created\":\"" + Timestamps.format(Instant.now()) + "\",\"stdout\":\"line " + counter
                + " \\u001b[0;32mok: [web" + counter % 5 + "]\\u001b[0m\",\"start_line\":" + (counter - 1)
                + ",\"end_line\":" + counter + ",\"event_data\":{\"host\":\"web" + counter % 5 + "\",\"task\":\"t"
                + counter / 100 + "\"}}";
    }

    /** The node's heap in use (its jvm_memory_used_bytes, heap areas), 0 when it does not answer. */
    static long heapUsed(NodeProcess node) {
        try {
            return Http.get(node.uri("/metrics"))
                    .body()
                    .lines()
                    .map(HEAP_LINE::matcher)
                    .filter(Matcher::matches)
                    .mapToLong(m -> (long) Double.parseDouble(m.group(1)))
                    .sum();
        } catch (RuntimeException unreachable) {
            return 0;
        }
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000.0;
    }

    static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Pacing (abusers, emitters) and sampling intervals: the benchmark's own timing, never a wait for a result. */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Result(
            double lagP50,
            double lagP99,
            double lagMax,
            double restP50,
            double restP99,
            double heapMaxMb,
            int received,
            int total,
            int outOfOrder,
            int failedPosts,
            Cpu cpu) {
        String row(String phase) {
            return String.format(
                    "| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.0f MB | %d of %d%s | %s |",
                    phase,
                    lagP50,
                    lagP99,
                    lagMax,
                    restP50,
                    restP99,
                    heapMaxMb,
                    received,
                    total,
                    failedPosts == 0 ? "" : " (" + failedPosts + " posts refused)",
                    outOfOrder == 0 ? "yes" : outOfOrder + " out of order");
        }
    }

    /**
     * CPU ticks of each process, or (after {@link #minus}) spent over a window: the node's JVM, what it started
     * (playbooks), its embedded PostgreSQL, this JVM (the watcher, and the abuser when in process), the abuser's
     * process, and the whole machine.
     */
    record Cpu(long node, long playbooks, long postgres, long bench, long abuser, long machine, long nanos) {
        static final String HEADER = "| phase | wall | node JVM | node's playbooks | PostgreSQL | bench JVM (watcher)"
                + " | abuser JVM | machine busy (2 cores) |\n|---|---|---|---|---|---|---|---|";

        static Cpu sample(NodeProcess node, Path pgData, AbuserClient abuser) {
            long postmaster = ProcessCpu.postmaster(pgData);
            long own = ProcessCpu.ticks(node.pid());
            return new Cpu(
                    own,
                    ProcessCpu.treeTicks(node.pid(), postmaster) - own,
                    ProcessCpu.postgresTicks(pgData),
                    ProcessCpu.ticks(ProcessHandle.current().pid()),
                    abuser == null || abuser.pid() < 0 ? 0 : ProcessCpu.ticks(abuser.pid()),
                    ProcessCpu.machineTicks(),
                    System.nanoTime());
        }

        Cpu minus(Cpu earlier) {
            return new Cpu(
                    node - earlier.node,
                    playbooks - earlier.playbooks,
                    postgres - earlier.postgres,
                    bench - earlier.bench,
                    abuser - earlier.abuser,
                    machine - earlier.machine,
                    nanos - earlier.nanos);
        }

        String row(String phase) {
            return String.format(
                    "| %s | %.1f s | %.1f s | %.1f s | %.1f s | %.1f s | %.1f s | %.1f s (%.0f%%) |",
                    phase,
                    nanos / 1e9,
                    node / ProcessCpu.HZ,
                    playbooks / ProcessCpu.HZ,
                    postgres / ProcessCpu.HZ,
                    bench / ProcessCpu.HZ,
                    abuser / ProcessCpu.HZ,
                    machine / ProcessCpu.HZ,
                    100
                            * machine
                            / ProcessCpu.HZ
                            / (nanos / 1e9 * Runtime.getRuntime().availableProcessors()));
        }
    }

    /** The watcher's websocket: lag of each event on arrival, and whether counters come once and in order. */
    static final class Watcher extends JobEventsListener {
        final long[] lagsMicros;
        final AtomicInteger measured = new AtomicInteger();
        final AtomicInteger received = new AtomicInteger();
        final AtomicInteger outOfOrder = new AtomicInteger();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        /** The largest lag (ms) of the events that arrived in each second since the subscription: where a spike was. */
        final long[] maxLagPerSecond = new long[600];

        final long startNanos = System.nanoTime();
        private final int total;
        private final int warmup;
        private int last;

        private Watcher(int total, int warmup) {
            this.lagsMicros = new long[total - warmup];
            this.total = total;
            this.warmup = warmup;
        }

        static Watcher subscribe(HttpClient http, URI uri, long job, int total, int warmup) {
            return subscribe(http, uri, TestUsers.basic(WATCHER, PASSWORD), job, new Watcher(total, warmup));
        }

        @Override
        void event(int counter, long lag) {
            if (counter != last + 1) outOfOrder.incrementAndGet();
            last = counter;
            received.incrementAndGet();
            int second = (int) Math.min(maxLagPerSecond.length - 1, (System.nanoTime() - startNanos) / 1_000_000_000L);
            maxLagPerSecond[second] = Math.max(maxLagPerSecond[second], lag / 1000);
            if (counter > warmup) {
                int n = measured.getAndIncrement();
                if (n < lagsMicros.length) lagsMicros[n] = lag;
            }
            if (counter == total) done.complete(null);
        }
    }
}
