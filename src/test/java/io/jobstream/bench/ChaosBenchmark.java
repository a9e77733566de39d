package io.jobstream.bench;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Cluster chaos (run by {@code bench/chaos}; not a test): three node processes on one Debian redis-server (AOF, fsync
 * every second) and one PostgreSQL, under a steady load from emitters that fail over, while random nodes are killed
 * with SIGKILL and started again, cycle after cycle, and websocket subscribers on every node reconnect with
 * {@code resume}. At the end it checks what each promise says: every acknowledged event stored once (lost = emitted -
 * stored), and every subscriber got every counter of every job exactly once, in order.
 * Arguments: [cycles=20] [rate=600 events/s] [jobs=3] [subscribers-per-node=2] [pause-seconds=3].
 */
public final class ChaosBenchmark {
    private static final int BATCH = 10;
    /** Every thread here is a daemon: a failed run ends (and closes its nodes, Redis and PostgreSQL) instead of hanging. */
    private static final ThreadFactory DAEMON = r -> {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    };

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final AtomicReferenceArray<NodeProcess> nodes;
    private final Path dir;
    private final Map<String, String> settings;
    private final Random random = new Random();
    private final AtomicLong refusedOrFailed = new AtomicLong();

    private ChaosBenchmark(int n, Path dir, Map<String, String> settings) {
        this.nodes = new AtomicReferenceArray<>(n);
        this.dir = dir;
        this.settings = settings;
    }

    public static void main(String[] args) throws Exception {
        int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 600;
        int jobCount = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int perNode = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int pause = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        Path dir = TempDirs.make("jobstream-chaos");
        try (EmbeddedDatabase pg = new EmbeddedDatabase(dir.resolve("pg"));
                RedisServer redis = RedisServer.start(dir.resolve("redis"), true)) {
            // the node's role and password as the embedded server made them (its superuser is locked down)
            String url = pg.start();
            ChaosBenchmark chaos = new ChaosBenchmark(3, dir, Map.of("database-url", url, "redis-url", redis.url()));
            try {
                chaos.run(cycles, rate, jobCount, perNode, pause);
            } finally {
                chaos.stopAll();
            }
        }
    }

    private void run(int cycles, int rate, int jobCount, int perNode, int pause) throws Exception {
        ExecutorService starter = Executors.newFixedThreadPool(nodes.length(), DAEMON);
        List<Future<NodeProcess>> started = new ArrayList<>();
        for (int i = 0; i < nodes.length(); i++) started.add(starter.submit(startNode(i)));
        for (int i = 0; i < nodes.length(); i++) nodes.set(i, started.get(i).get(3, TimeUnit.MINUTES));
        starter.shutdown();

        long base = 7_000_000L + random.nextInt(1_000_000) * 10L;
        List<Long> jobs = new ArrayList<>();
        for (int j = 0; j < jobCount; j++) jobs.add(base + j);
        List<ChaosSubscriber> subscribers = new ArrayList<>();
        for (int i = 0; i < nodes.length(); i++) {
            for (int k = 0; k < perNode; k++) {
                int slot = i;
                ChaosSubscriber s = new ChaosSubscriber(jobs, () -> liveNode(slot));
                s.connect();
                subscribers.add(s);
            }
        }

        AtomicBoolean emitting = new AtomicBoolean(true);
        long periodMillis = Math.max(1, 1000L * BATCH * jobCount / rate);
        ExecutorService emitters = Executors.newFixedThreadPool(jobCount, DAEMON);
        List<Future<Integer>> emitted = new ArrayList<>();
        for (long job : jobs) emitted.add(emitters.submit(() -> emit(job, periodMillis, emitting)));

        long start = System.nanoTime();
        // a killed node starts again in the background (a JVM start takes seconds here), so that kills keep coming
        // while it does; at least one node always serves
        ExecutorService restarts = Executors.newFixedThreadPool(nodes.length(), DAEMON);
        List<Future<?>> restarted = new ArrayList<>();
        for (int c = 1; c <= cycles; c++) {
            Thread.sleep(pause * 1000L); // the chaos cadence: a kill every `pause` seconds is the scenario
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < nodes.length(); i++) if (nodes.get(i).alive()) live.add(i);
            if (live.size() < 2) {
                c--;
                continue;
            }
            int slot = live.get(random.nextInt(live.size()));
            NodeProcess victim = nodes.get(slot);
            victim.kill();
            System.out.printf(
                    "cycle %d/%d at %ds: killed %s (kill -9), %d node(s) left serving%n",
                    c, cycles, (System.nanoTime() - start) / 1_000_000_000, victim.name(), live.size() - 1);
            Callable<NodeProcess> starting = startNode(slot);
            restarted.add(restarts.submit(() -> {
                for (int attempt = 1; ; attempt++) {
                    try {
                        nodes.set(slot, starting.call());
                        return null;
                    } catch (IllegalStateException slow) { // not serving within 3 minutes: again
                        if (attempt == 3) throw slow;
                        System.out.printf(
                                "%s did not start in time (attempt %d); starting it again%n", victim.name(), attempt);
                    }
                }
            }));
        }
        for (Future<?> f : restarted) f.get(10, TimeUnit.MINUTES);
        restarts.shutdown();
        Thread.sleep(pause * 1000L); // the scenario: a last stretch of emitting with every node up
        emitting.set(false);
        List<Integer> finals = new ArrayList<>();
        for (Future<Integer> f : emitted) finals.add(f.get(2, TimeUnit.MINUTES));
        emitters.shutdown();
        for (int j = 0; j < jobs.size(); j++) post(Events.eof(jobs.get(j), finals.get(j)));
        long emittedTotal = finals.stream().mapToLong(Integer::longValue).sum();
        System.out.printf(
                "emitting stopped after %ds; waiting for every job to finish%n",
                (System.nanoTime() - start) / 1_000_000_000);

        awaitFinished(jobs, Duration.ofMinutes(3));
        long stored = 0;
        for (long job : jobs)
            stored += Http.getJson(liveNode(0).uri("/api/v2/jobs/" + job + "/job_events/?page_size=1"))
                    .path("count")
                    .asLong();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try {
            await().atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> subscribers.stream().allMatch(s -> s.complete(finals)));
        } catch (ConditionTimeoutException incomplete) {
            // reported below as missing events: a benchmark measures, it does not fail
        }
        Thread.sleep(
                1000); // a measurement window: anything extra (a duplicate, a late one) would come now, and is counted
        report(cycles, rate, emittedTotal, stored, finals, subscribers, (System.nanoTime() - start) / 1_000_000_000);
        subscribers.forEach(ChaosSubscriber::close);
    }

    private void report(
            int cycles,
            int rate,
            long emitted,
            long stored,
            List<Integer> finals,
            List<ChaosSubscriber> subscribers,
            long seconds) {
        long delivered = 0, duplicated = 0, outOfOrder = 0, skipped = 0, missing = 0, reconnects = 0;
        for (ChaosSubscriber s : subscribers) {
            delivered += s.delivered();
            duplicated += s.duplicated();
            outOfOrder += s.outOfOrder();
            skipped += s.skipped();
            missing += s.missing(finals);
            reconnects += s.reconnects();
        }
        long absorbed = 0;
        for (int i = 0; i < nodes.length(); i++) {
            absorbed += Http.getJson(nodes.get(i).uri("/api/v2/stats/"))
                    .path("receiver")
                    .path("duplicates")
                    .asLong();
        }
        System.out.println();
        System.out.printf(
                "%d kill -9 cycles in %d s, %d events/s offered (%d/s acknowledged over the run), %d jobs,"
                        + " %d subscribers (%d reconnects); in the nodes' logs: %d events claimed from killed nodes, %d holes"
                        + " skipped%n",
                cycles,
                seconds,
                rate,
                emitted / Math.max(1, seconds),
                finals.size(),
                subscribers.size(),
                reconnects,
                fromLogs("claimed (\\d+) uncommitted events"),
                fromLogs("()skipped for a subscriber"));
        System.out.println(
                "| emitted (2xx) | stored | lost | stored twice | delivered | duplicated | out of order | skipped"
                        + " | never delivered | emitter retries | redeliveries absorbed by the store (live nodes) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        System.out.printf(
                "| %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |%n",
                emitted,
                stored,
                Math.max(0, emitted - stored),
                Math.max(
                        0,
                        stored - finals.stream().mapToLong(Integer::longValue).sum()),
                delivered,
                duplicated,
                outOfOrder,
                skipped,
                missing,
                refusedOrFailed.get(),
                absorbed);
    }

    /** Sums the first group of {@code regex} over every node's log (1 per line when the group is empty). */
    private long fromLogs(String regex) {
        Pattern p = Pattern.compile(regex);
        long total = 0;
        for (int i = 0; i < nodes.length(); i++) {
            try {
                for (String line :
                        Files.readAllLines(dir.resolve("chaos-" + (i + 1)).resolve("node.log"))) {
                    Matcher m = p.matcher(line);
                    if (m.find()) total += m.group(1).isEmpty() ? 1 : Long.parseLong(m.group(1));
                }
            } catch (IOException e) {
                System.out.println("could not read a node log: " + e);
            }
        }
        return total;
    }

    /** Sends counters 1, 2, 3 … of {@code job} in requests of {@link #BATCH}; returns the last counter acknowledged. */
    private int emit(long job, long periodMillis, AtomicBoolean emitting) throws InterruptedException {
        int sent = 0;
        long next = System.nanoTime();
        while (emitting.get()) {
            StringBuilder body = new StringBuilder();
            for (int i = 1; i <= BATCH; i++)
                body.append(Events.event(job, sent + i)).append('\n');
            post(body.toString());
            sent += BATCH;
            // at a fixed rate: a request held up by a failover is followed at once by the ones that fell due meanwhile
            next += periodMillis * 1_000_000;
            long wait = next - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000); // pacing the emitter: the benchmark's load
        }
        return sent;
    }

    /** Posts until a node answers 200: on a refused connection, a timeout or a non-200, the next node is tried. */
    private void post(String body) throws InterruptedException {
        int turn = random.nextInt(nodes.length());
        while (true) {
            NodeProcess node = nodes.get(turn++ % nodes.length());
            HttpRequest request = HttpRequest.newBuilder(node.uri("/api/v2/job_events/ingest/"))
                    .timeout(Duration.ofSeconds(10))
                    .header("Authorization", TestUsers.ADMIN_AUTH)
                    .header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
            try {
                if (HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException down) {
                // killed, or restarting: the same request goes to another node (ingest is idempotent)
            }
            refusedOrFailed.incrementAndGet();
            Thread.sleep(50); // an emitter's pause before it retries elsewhere, as a real one does
        }
    }

    private void awaitFinished(List<Long> jobs, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        for (long job : jobs) {
            while (true) {
                JsonNode detail = Http.getJson(liveNode(0).uri("/api/v2/jobs/" + job + "/"));
                if (detail.path("event_processing_finished").asBoolean()) break;
                if (System.nanoTime() > deadline) {
                    System.out.printf("job %d did not finish: %s%n", job, detail);
                    break;
                }
                Thread.sleep(500); // polls the job's row; a job that never finishes is reported, not failed
            }
        }
    }

    /** The node in {@code slot}, or another live one while it restarts. */
    private NodeProcess liveNode(int slot) {
        for (int i = 0; i < nodes.length(); i++) {
            NodeProcess n = nodes.get((slot + i) % nodes.length());
            if (n != null && n.alive()) return n;
        }
        throw new IllegalStateException("no live node");
    }

    private Callable<NodeProcess> startNode(int slot) {
        String name = "chaos-" + (slot + 1);
        // the tests' quick-start JVM options; a JVM start can take minutes when the machine is loaded
        return () -> NodeProcess.start(
                name,
                dir.resolve(name),
                settings,
                List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
                Duration.ofMinutes(3));
    }

    private void stopAll() {
        for (int i = 0; i < nodes.length(); i++) {
            NodeProcess n = nodes.get(i);
            if (n != null) n.close();
        }
    }
}
