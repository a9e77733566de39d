package io.jobstream.bench;

import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.TestUsers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Scale of connections (issue 15; run by {@code bench/connections}, not a test): one node in its own JVM with a
 * 512 MB heap, {@code connections} websockets over {@code jobs} jobs (100 × 100 by default), a share of them stalled
 * (they subscribe, then never read again), and live events through HTTP ingest at {@code rate} events/s spread over
 * the jobs. It reports what an idle connection costs the node (heap after a full GC and resident memory, before and
 * after the connections open, per connection), the node's largest heap while events flow, and the live subscribers'
 * lag: overall percentiles and how many connections had a p99 above 100 ms (more than 1% of their events later).
 * Subscribers run in two processes of their own ({@link FanoutClients}); created is each batch's scheduled send time,
 * so an emitter held up by the node counts in the lag.
 *
 * <p>One user (the admin) holds every connection, so the node runs with {@code ws.max-connections-per-user=0} and
 * {@code ws.max-subscribes-per-user=0}: the benchmark's shortcut for 100 viewers of each of 100 jobs, who would be
 * many users. Arguments: connections jobs rate seconds stalled-share.
 */
public final class ConnectionsBenchmark {
    private static final long FIRST_JOB = 1_000;
    private static final int TICK_MS = 10;
    private static final int CLIENT_PROCESSES = 2;

    public static void main(String[] args) throws Exception {
        int connections = Integer.parseInt(args[0]);
        int jobs = Integer.parseInt(args[1]);
        int rate = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        double stalledShare = Double.parseDouble(args[4]);
        Path dir = Files.createTempDirectory("jobstream-connections");
        System.out.printf(
                "bench/connections: %,d websockets over %d jobs (%.0f%% stalled), %,d events/s for %d s; load before %s%n",
                connections, jobs, stalledShare * 100, rate, seconds, load());
        try (NodeProcess node = NodeProcess.start(
                "connections",
                dir,
                Map.of("ws.max-connections-per-user", "0", "ws.max-subscribes-per-user", "0"),
                nodeOptions(),
                Duration.ofSeconds(120))) {
            // stopped by a signal (a timeout around the command), the node and its PostgreSQL must not outlive us
            long postmaster = ProcessCpu.postmaster(dir.resolve("data").resolve("pg"));
            Thread stopNode = new Thread(() -> {
                node.close(); // SIGTERM, SIGKILL after 30 s
                ProcessHandle.of(postmaster).ifPresent(ProcessHandle::destroy); // orphaned by a SIGKILL
            });
            Runtime.getRuntime().addShutdownHook(stopNode);
            // one event per job first: the jobs exist before anyone subscribes
            post(node, jobs, 1, 1, Instant.now());
            Memory before = Memory.of(node);
            // every tick sends the same number of events to every job: ticks of 10 ms, or longer when the rate is
            // below one event per job per 10 ms (100 jobs at 1,000 events/s: one event per job every 100 ms)
            int perJobPerTick = Math.max(1, rate * TICK_MS / 1000 / jobs);
            long tickMs = Math.max(TICK_MS, 1000L * perJobPerTick * jobs / rate);
            int perTick = perJobPerTick * jobs;
            long ticks = seconds * 1000L / tickMs;
            int perJob = (int) (perJobPerTick * ticks);
            int warmup = (int) Math.min(perJob / 4, perJobPerTick * (3000 / tickMs)); // the first quarter, or 3 s
            String subscribe = "{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[{job}]}}";
            List<FanoutBenchmark.Client> clients = new ArrayList<>();
            long opening = System.nanoTime();
            for (int p = 0; p < CLIENT_PROCESSES; p++) {
                int n = connections / CLIENT_PROCESSES + (p < connections % CLIENT_PROCESSES ? 1 : 0);
                clients.add(new FanoutBenchmark.Client(
                        node.websocketUri().toString(),
                        n,
                        perJob,
                        warmup,
                        subscribe, // connection i of each process watches job i % jobs: viewers split evenly
                        List.of(
                                "-Xmx384m",
                                "-Dfanout.jobs=" + jobs,
                                "-Dfanout.first.job=" + FIRST_JOB,
                                "-Dfanout.stalled=" + stalledShare,
                                "-Dfanout.drain.seconds=30",
                                "-Dfanout.setup.seconds=600"), // thousands of handshakes on a busy node
                        Map.of("JOBSTREAM_AUTHORIZATION", TestUsers.ADMIN_AUTH)));
            }
            for (FanoutBenchmark.Client c : clients) c.awaitReady();
            double openSeconds = (System.nanoTime() - opening) / 1e9;
            Thread.sleep(2000); // the handshakes' garbage and threads settle
            Memory idle = Memory.of(node);
            histogram(node, "idle connections");
            System.out.printf(
                    "opened %,d connections in %.1f s; node heap after GC %.1f → %.1f MB, resident %.1f → %.1f MB:"
                            + " %.1f KB of heap and %.1f KB resident per idle connection%n",
                    connections,
                    openSeconds,
                    before.heapMb(),
                    idle.heapMb(),
                    before.rssMb(),
                    idle.rssMb(),
                    (idle.heapBytes - before.heapBytes) / 1024.0 / connections,
                    (idle.rssBytes - before.rssBytes) / 1024.0 / connections);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong heapMax = new AtomicLong();
            Thread sampler = new Thread(() -> {
                while (running.get()) {
                    heapMax.accumulateAndGet(NeighboursBenchmark.heapUsed(node), Math::max);
                    sleep(250);
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            long cpuStart = ProcessCpu.ticks(node.pid());
            Map<String, ThreadCpu.Ticks> threadsStart = ThreadCpu.of(node.pid());
            long start = System.nanoTime();
            Instant wallStart = Instant.now();
            int counter = 1;
            long late = 0;
            Semaphore inFlight = new Semaphore(32);
            List<CompletableFuture<?>> posts = new ArrayList<>();
            AtomicLong failedPosts = new AtomicLong();
            for (long tick = 0; tick < ticks; tick++) {
                long wait = start + TimeUnit.MILLISECONDS.toNanos(tick * tickMs) - System.nanoTime();
                if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                else late = Math.max(late, -wait);
                int from = counter + 1;
                counter += perJobPerTick;
                inFlight.acquire();
                posts.add(postAsync(node, jobs, from, counter, wallStart.plusMillis(tick * tickMs))
                        .handle((r, e) -> {
                            inFlight.release();
                            if (e != null || r.statusCode() != 200) failedPosts.incrementAndGet();
                            return null;
                        }));
            }
            CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
            double wall = (System.nanoTime() - start) / 1e9;
            for (FanoutBenchmark.Client c : clients) c.publisherDone();
            Histogram lags = new Histogram(3);
            long received = 0;
            long failed = 0;
            long stalled = 0;
            long over = 0;
            double worst = 0;
            for (FanoutBenchmark.Client c : clients) {
                Map<String, String> r = c.result();
                received += Long.parseLong(r.getOrDefault("received", "0"));
                failed += Long.parseLong(r.getOrDefault("failed", "0"));
                stalled += Long.parseLong(r.getOrDefault("stalled", "0"));
                over += Long.parseLong(r.getOrDefault("over", "0"));
                worst = Math.max(worst, Double.parseDouble(r.getOrDefault("worst", "0")));
                if (r.containsKey("histogram")) {
                    lags.add(Histogram.decodeFromCompressedByteBuffer(
                            ByteBuffer.wrap(Base64.getDecoder().decode(r.get("histogram"))), 0));
                }
            }
            running.set(false);
            histogram(node, "after the events");
            double nodeCpu = (ProcessCpu.ticks(node.pid()) - cpuStart) / (double) ProcessCpu.HZ;
            Map<String, ThreadCpu.Ticks> threadsEnd = ThreadCpu.of(node.pid());
            long live = connections - stalled;
            long expected = live * (long) (perJob - warmup);
            System.out.printf(
                    "events: %,d in %.1f s (%,.0f/s; emitter at worst %.1f ms behind its schedule), %d failed posts%n",
                    (long) perTick * ticks, wall, perTick * ticks / wall, late / 1e6, failedPosts.get());
            System.out.printf(
                    "live subscribers: %,d (%,d stalled, %d connections failed); delivered %,d of %,d after warm-up%n",
                    live, stalled, failed, received, expected);
            System.out.printf(
                    "lag (ms): p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f; connections with p99 over 100 ms: %,d"
                            + " (worst: %.2f%% of its events over 100 ms)%n",
                    ms(lags, 50),
                    ms(lags, 99),
                    ms(lags, 99.9),
                    lags.getTotalCount() == 0 ? 0 : lags.getMaxValue() / 1000.0,
                    over,
                    worst * 100);
            System.out.printf(
                    "node: heap max %.0f MB of 512 MB while events flowed; CPU %.1f s (%.0f%% of the machine), %.2f µs"
                            + " per delivered message; load after %s%n",
                    heapMax.get() / 1048576.0,
                    nodeCpu,
                    100 * nodeCpu / wall / Runtime.getRuntime().availableProcessors(),
                    received == 0 ? 0 : nodeCpu / received * 1e6,
                    load());
            // a node short of CPU takes what the machine leaves it, whatever the rate: its threads say where it went
            ThreadCpu.print("node threads while events flowed", threadsStart, threadsEnd, received, "message");
            for (FanoutBenchmark.Client c : clients) c.close();
            Runtime.getRuntime().removeShutdownHook(stopNode);
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .forEach(f -> f.toFile().delete());
            }
        }
        System.exit(0);
    }

    private static void post(NodeProcess node, int jobs, int from, int to, Instant created) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body(jobs, from, to, created));
        if (r.statusCode() != 200) throw new IllegalStateException("ingest: " + r.statusCode() + " " + r.body());
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static CompletableFuture<HttpResponse<Void>> postAsync(
            NodeProcess node, int jobs, int from, int to, Instant created) {
        return HTTP.sendAsync(
                HttpRequest.newBuilder(node.uri("/api/v2/job_events/ingest/"))
                        .header("Authorization", TestUsers.ADMIN_AUTH)
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofString(body(jobs, from, to, created)))
                        .build(),
                HttpResponse.BodyHandlers.discarding());
    }

    /** Counters {@code from..to} of every job, created at {@code created}. */
    private static String body(int jobs, int from, int to, Instant created) {
        String stamp = io.jobstream.event.Timestamps.format(created);
        StringBuilder b = new StringBuilder();
        for (int c = from; c <= to; c++) {
            for (int j = 0; j < jobs; j++) {
                long job = FIRST_JOB + j;
                b.append("{\"job_id\":")
                        .append(job)
                        .append(",\"counter\":")
                        .append(c)
                        .append(",\"event\":\"runner_on_ok\",\"uuid\":\"conn-")
                        .append(job)
                        .append('-')
                        .append(c)
                        .append("\",\"created\":\"")
                        .append(stamp)
                        .append("\",\"stdout\":\"job ")
                        .append(job)
                        .append(" line ")
                        .append(c)
                        .append("\",\"start_line\":")
                        .append(c - 1)
                        .append(",\"end_line\":")
                        .append(c)
                        .append(",\"event_data\":{\"host\":\"host")
                        .append(c % 10)
                        .append("\",\"task\":\"t\"}}\n");
            }
        }
        return b.toString();
    }

    /** With CONNECTIONS_HISTO=1: the node's largest classes on the heap (jmap -histo:live, so after a full GC). */
    private static void histogram(NodeProcess node, String when) throws Exception {
        if (!"1".equals(System.getenv("CONNECTIONS_HISTO"))) return;
        Process p = new ProcessBuilder("jmap", "-histo:live", Long.toString(node.pid()))
                .redirectErrorStream(true)
                .start();
        // read to the end: a jmap blocked on a full pipe keeps the node's attach listener, and the next one hangs
        List<String> lines = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (lines.size() < 18) lines.add(line);
            }
        }
        p.waitFor(120, TimeUnit.SECONDS);
        System.out.println("heap histogram, " + when + ":");
        lines.forEach(l -> System.out.println("  " + l));
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static String load() throws IOException {
        return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The node's heap after a full GC (jcmd GC.run, then the heap metric) and its resident memory. */
    private record Memory(long heapBytes, long rssBytes) {
        static Memory of(NodeProcess node) throws Exception {
            Process gc = new ProcessBuilder("jcmd", Long.toString(node.pid()), "GC.run")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!gc.waitFor(60, TimeUnit.SECONDS) || gc.exitValue() != 0)
                throw new IllegalStateException("jcmd GC.run failed for the node");
            Thread.sleep(500);
            long rss = 0;
            for (String line : Files.readAllLines(Path.of("/proc/" + node.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
            return new Memory(NeighboursBenchmark.heapUsed(node), rss);
        }

        double heapMb() {
            return heapBytes / 1048576.0;
        }

        double rssMb() {
            return rssBytes / 1048576.0;
        }
    }

    /** -Xmx512m (the target's heap bound) and CONNECTIONS_NODE_OPTS, e.g. a flight recording of the node. */
    private static List<String> nodeOptions() {
        List<String> options = new ArrayList<>(List.of("-Xmx512m"));
        String extra = System.getenv("CONNECTIONS_NODE_OPTS");
        if (extra != null && !extra.isBlank())
            options.addAll(List.of(extra.trim().split("\\s+")));
        return options;
    }
}
