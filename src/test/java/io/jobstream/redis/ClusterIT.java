package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.DebianPostgres;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.WsTestClient;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.XPendingParams;

/**
 * Cluster mode with real parts: node processes (separate JVMs, so that one can be killed with SIGKILL) over one
 * Debian redis-server and one Debian PostgreSQL, all started here on free ports.
 *
 * <p>Websocket delivery is asserted as exactly once per counter and in counter order: the relay carries no order
 * across nodes, and each subscriber's sequencing in the websocket layer restores it. A node dying with uncommitted
 * events is {@link ClusterOrderIT}'s case.
 */
class ClusterIT {
    private static final Duration NODE_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    static Path dir;

    static RedisServer redisServer;
    static DebianPostgres postgres;
    static RedisClient redis;

    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<WsTestClient> clients = new ArrayList<>();
    private Duration pace = Duration.ZERO;

    @BeforeAll
    static void startRedisAndPostgres() {
        redisServer = RedisServer.start(dir.resolve("redis"), true);
        postgres = DebianPostgres.start(Path.of("/tmp")
                .resolve("jobstream-cluster-pg-" + ProcessHandle.current().pid()));
        redis = RedisKeys.connect(redisServer.url(), 4);
    }

    @AfterAll
    static void stopRedisAndPostgres() {
        if (redis != null) redis.close();
        if (postgres != null) postgres.close();
        if (redisServer != null) redisServer.close();
    }

    @AfterEach
    void stopNodes() {
        clients.forEach(WsTestClient::abort);
        nodes.forEach(NodeProcess::close);
    }

    @Test
    void events_pushed_to_three_nodes_over_http_and_callback_tasks_are_stored_once_and_reach_clients_on_every_node()
            throws Exception {
        startNodes(3, "a", Map.of());
        List<Long> jobs = List.of(101L, 102L, 103L, 104L, 105L);
        int perJob = 400;
        List<Map<Long, Map<Integer, Integer>>> seen = new ArrayList<>();
        for (NodeProcess node : nodes) seen.add(subscribe(node, jobs));

        List<String> lines = shuffledEvents(jobs, perJob, 1);
        // half over HTTP to the nodes in turn, half as AWX does it: RPUSH onto callback_tasks
        List<String> http = lines.subList(0, lines.size() / 2);
        List<String> awx = lines.subList(lines.size() / 2, lines.size());
        Future<?> pushed = Executors.newSingleThreadExecutor().submit(() -> {
            for (int i = 0; i < awx.size(); i += 100) {
                redis.rpush(
                        RedisKeys.CALLBACK_TASKS,
                        awx.subList(i, Math.min(i + 100, awx.size())).toArray(String[]::new));
            }
        });
        AtomicInteger refused = new AtomicInteger();
        post(http, 50, refused);
        pushed.get(1, TimeUnit.MINUTES);
        for (long job : jobs) redis.rpush(RedisKeys.CALLBACK_TASKS, Events.eof(job, perJob));

        awaitStored(jobs, perJob);
        for (int n = 0; n < nodes.size(); n++) {
            awaitEveryCounter(seen.get(n), jobs, perJob, nodes.get(n).name());
        }
        JsonNode stats = Http.getJson(nodes.get(0).uri("/api/v2/stats/"));
        assertThat(stats.path("mode").asText()).isEqualTo("cluster");
        assertThat(stats.path("cluster").path("pending").asLong()).isZero();
        assertThat(sum("redis", "callback_popped")).isEqualTo(awx.size() + jobs.size());
        Map<String, Object> cluster = RedisNodes.cluster(redisServer.url());
        assertThat(((Map<?, ?>) cluster.get("nodes"))
                        .keySet().stream().map(String::valueOf).toList())
                .as("nodes found through their heartbeats")
                .containsExactlyInAnyOrder("a1", "a2", "a3");
    }

    @Test
    void a_node_killed_while_it_holds_uncommitted_events_loses_nothing_the_survivors_commit_them() throws Exception {
        startNodes(3, "b", Map.of());
        List<Long> jobs = List.of(201L, 202L, 203L);
        int perJob = 3000;
        List<String> lines = shuffledEvents(jobs, perJob, 2);
        redis.rpush(RedisKeys.CALLBACK_TASKS, lines.subList(0, lines.size() / 2).toArray(String[]::new));
        AtomicInteger refused = new AtomicInteger();
        ExecutorService emitter = Executors.newSingleThreadExecutor();
        Future<?> posting = emitter.submit(() -> post(lines.subList(lines.size() / 2, lines.size()), 100, refused));

        NodeProcess victim = nodes.get(2);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> pendingOf(victim.name()) >= 20);
        victim.kill();
        long heldWhenKilled = pendingOf(victim.name());
        nodes.remove(victim);
        assertThat(heldWhenKilled).as("uncommitted events the killed node held").isPositive();

        posting.get(2, TimeUnit.MINUTES);
        emitter.shutdown();
        // as any emitter does: an EOF answered 503 (backlog still draining) is sent again
        post(jobs.stream().map(job -> Events.eof(job, perJob)).toList(), 1, refused);
        awaitStored(jobs, perJob);
        assertThat(pendingOf(victim.name())).isZero();
        assertThat(sum("redis", "claimed"))
                .as("entries claimed from the dead node")
                .isGreaterThanOrEqualTo(heldWhenKilled);
    }

    @Test
    void a_node_killed_while_it_holds_a_callback_tasks_batch_loses_nothing_a_survivor_puts_it_back() throws Exception {
        startNodes(2, "k", Map.of());
        List<Long> jobs = List.of(401L, 402L);
        int perJob = 6000;
        // bigger payloads than Events.event, so that a batch stays in a processing list long enough to be seen
        String padding = "x".repeat(2_000);
        List<String> lines = shuffledEvents(jobs, perJob, 3).stream()
                .map(l -> l.replace("\"stdout\":\"", "\"stdout\":\"" + padding))
                .toList();
        NodeProcess victim = nodes.get(1);
        String held = RedisKeys.processing(victim.name());
        long deadBefore = redis.exists(RedisKeys.DEAD) ? redis.xlen(RedisKeys.DEAD) : 0;
        for (int from = 0; from < lines.size(); from += 1_000)
            redis.rpush(
                    RedisKeys.CALLBACK_TASKS,
                    lines.subList(from, Math.min(from + 1_000, lines.size())).toArray(String[]::new));
        // Stopped (SIGSTOP) while its processing list holds a batch, then SIGKILLed: a node that dies between
        // taking a batch and clearing it. If it cleared the list just before it stopped, it goes on and is caught
        // at its next batch.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    if (redis.llen(held) == 0) return false;
                    victim.pause();
                    if (redis.llen(held) > 0) return true;
                    victim.proceed();
                    return false;
                });
        long heldWhenKilled = redis.llen(held);
        victim.kill();
        nodes.remove(victim);
        for (long job : jobs) redis.rpush(RedisKeys.CALLBACK_TASKS, Events.eof(job, perJob));
        assertThat(heldWhenKilled).as("messages the killed node had taken").isPositive();
        awaitStored(jobs, perJob);
        await().atMost(Duration.ofSeconds(30)).until(() -> !redis.exists(held));
        assertThat(sum("redis", "callback_recovered"))
                .as("messages of the dead node put back by the survivor")
                .isGreaterThanOrEqualTo(heldWhenKilled);
        assertThat(redis.exists(RedisKeys.DEAD) ? redis.xlen(RedisKeys.DEAD) : 0)
                .as("dead-lettered")
                .isEqualTo(deadBefore);
    }

    @Test
    void redis_restart_and_a_10s_database_outage_lose_nothing_and_emitters_are_told_to_retry() throws Exception {
        startNodes(2, "c", Map.of("queue.capacity", "1500"));
        List<Long> jobs = List.of(301L, 302L);
        int perJob = 3000;
        List<String> lines = shuffledEvents(jobs, perJob, 3);
        AtomicInteger refused = new AtomicInteger();
        ExecutorService emitter = Executors.newSingleThreadExecutor();
        pace = Duration.ofMillis(50); // about 1,000 events/s, so that both outages happen mid-stream
        Future<?> posting = emitter.submit(() -> post(lines, 50, refused));

        await().atMost(Duration.ofSeconds(30)).until(() -> storedSoFar(jobs) > 500);
        redisServer.stop();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> health = Http.get(nodes.get(0).uri("/api/v2/health/"));
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(Http.json(health.body()).path("checks").path("redis").asText())
                    .startsWith("unreachable");
        });
        redisServer.restart(); // same port and directory: the AOF brings the stream and the group back
        await().atMost(Duration.ofSeconds(30)).until(() -> storedSoFar(jobs) > 2000);
        int refusedBefore = refused.get();
        postgres.stop();
        // the scenario: the database stays down for 10 s while the emitter keeps sending, so the stream fills up
        Thread.sleep(10_000);
        int refusedDuring = refused.get() - refusedBefore;
        postgres.startAgain();
        assertThat(posting.isDone())
                .as("the emitter was still sending when the database came back")
                .isFalse();
        assertThat(refusedDuring)
                .as("503s while the database was down and the stream filled")
                .isPositive();

        posting.get(2, TimeUnit.MINUTES);
        emitter.shutdown();
        // as any emitter does: an EOF answered 503 (backlog still draining) is sent again
        post(jobs.stream().map(job -> Events.eof(job, perJob)).toList(), 1, refused);
        awaitStored(jobs, perJob);
        assertThat(refused.get())
                .as("requests answered 503 + Retry-After during the outages")
                .isPositive();
    }

    // ---- helpers ----

    private void startNodes(int n, String prefix, Map<String, String> extra) throws Exception {
        Map<String, String> settings = new TreeMap<>(Map.of(
                "database-url",
                postgres.url(),
                "redis-url",
                redisServer.url(),
                "redis.node-timeout",
                NODE_TIMEOUT.toSeconds() + "s"));
        settings.putAll(extra);
        ExecutorService starter = Executors.newFixedThreadPool(n);
        List<Future<NodeProcess>> started = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = prefix + (i + 1);
            started.add(starter.submit(() -> NodeProcess.start(name, dir.resolve(name), settings)));
        }
        for (Future<NodeProcess> f : started) nodes.add(f.get(2, TimeUnit.MINUTES));
        starter.shutdown();
    }

    /** Counter → times seen, per job, in the order first received, by one websocket client subscribed to every job. */
    private Map<Long, Map<Integer, Integer>> subscribe(NodeProcess node, List<Long> jobs) throws Exception {
        WsTestClient client = WsTestClient.connect(node.websocketUri(), "csrftoken=it", true);
        clients.add(client);
        assertThat(client.next().path("accept").asBoolean()).isTrue();
        client.send("{\"xrftoken\":\"it\",\"groups\":{\"job_events\":" + jobs + ",\"jobs\":[\"summary\"]}}");
        assertThat(client.next().path("groups_current").toString()).contains("job_events-" + jobs.get(0));
        Map<Long, Map<Integer, Integer>> seen = new ConcurrentHashMap<>();
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    String frame = client.frames.poll(1, TimeUnit.HOURS);
                    if (frame == null) return;
                    JsonNode m = Http.json(frame);
                    if (!"job_events".equals(m.path("group_name").asText())) continue;
                    seen.computeIfAbsent(
                                    m.path("job").asLong(), j -> Collections.synchronizedMap(new LinkedHashMap<>()))
                            .merge(m.path("counter").asInt(), 1, Integer::sum);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        reader.setDaemon(true);
        reader.start();
        return seen;
    }

    private static List<String> shuffledEvents(List<Long> jobs, int perJob, long seed) {
        List<String> lines = new ArrayList<>();
        for (long job : jobs) for (int c = 1; c <= perJob; c++) lines.add(Events.event(job, c));
        Collections.shuffle(lines, new Random(seed));
        return lines;
    }

    /** Posts in requests of {@code size} lines to the nodes in turn; a 503 or a refused connection is retried elsewhere. */
    private void post(List<String> lines, int size, AtomicInteger refused) {
        int turn = 0;
        for (int from = 0; from < lines.size(); from += size) {
            String body = String.join("\n", lines.subList(from, Math.min(from + size, lines.size())));
            while (true) {
                List<NodeProcess> live =
                        nodes.stream().filter(NodeProcess::alive).toList();
                NodeProcess node = live.get(turn++ % live.size());
                try {
                    HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body);
                    if (r.statusCode() == 200) {
                        if (!pace.isZero()) sleep(pace.toMillis());
                        break;
                    }
                    assertThat(r.statusCode())
                            .as("only 503 may refuse a valid request: " + r.body())
                            .isEqualTo(503);
                    assertThat(r.headers().firstValue("Retry-After")).isPresent();
                    refused.incrementAndGet();
                } catch (UncheckedIOException connectionRefused) {
                    // the node was just killed: the emitter sends the same request to another one
                }
                sleep(100);
            }
        }
    }

    private void awaitStored(List<Long> jobs, int perJob) {
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    for (long job : jobs) {
                        JsonNode detail = Http.getJson(nodes.get(0).uri("/api/v2/jobs/" + job + "/"));
                        assertThat(detail.path("event_processing_finished").asBoolean())
                                .as(
                                        "job %d finished (stored %d of %d)",
                                        job, detail.path("stored_events").asLong(), perJob + 1)
                                .isTrue();
                    }
                });
        for (long job : jobs) {
            JsonNode page = Http.getJson(nodes.get(0).uri("/api/v2/jobs/" + job + "/job_events/?page_size=1"));
            assertThat(page.path("count").asInt()).as("rows of job %d", job).isEqualTo(perJob);
        }
    }

    private int storedSoFar(List<Long> jobs) {
        int n = 0;
        for (long job : jobs) {
            HttpResponse<String> r = Http.get(nodes.get(0).uri("/api/v2/jobs/" + job + "/job_events/?page_size=1"));
            if (r.statusCode() == 200) n += Http.json(r.body()).path("count").asInt();
        }
        return n;
    }

    private static void awaitEveryCounter(
            Map<Long, Map<Integer, Integer>> seen, List<Long> jobs, int perJob, String node) {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (long job : jobs) {
                assertThat(seen.getOrDefault(job, Map.of()).keySet())
                        .as("counters of job %d seen by a client on %s", job, node)
                        .hasSize(perJob);
            }
        });
        for (long job : jobs) {
            Map<Integer, Integer> counters = seen.get(job);
            List<Integer> order;
            synchronized (counters) {
                order = List.copyOf(counters.keySet());
            }
            assertThat(order).allMatch(c -> c >= 1 && c <= perJob);
            assertThat(order)
                    .as("counters of job %d in the order a client on %s got them", job, node)
                    .isSorted();
            // with no node failing, every event is committed once and so relayed once
            assertThat(seen.get(job).values())
                    .as("deliveries per counter, job %d on %s", job, node)
                    .containsOnly(1);
        }
    }

    /** Events in the stream entries {@code consumer} has read and not acknowledged (an entry holds a batch). */
    private long pendingOf(String consumer) {
        long events = 0;
        for (var p : redis.xpending(
                RedisKeys.EVENTS,
                RedisKeys.GROUP,
                XPendingParams.xPendingParams().consumer(consumer).count(10_000))) {
            for (var e : redis.xrange(RedisKeys.EVENTS, p.getID(), p.getID(), 1))
                events +=
                        Math.max(1, CompactMessage.batchEntryCount(e.getFields().get("m")));
        }
        return events;
    }

    private long sum(String section, String field) {
        long total = 0;
        for (NodeProcess node : nodes)
            total += Http.getJson(node.uri("/api/v2/stats/"))
                    .path(section)
                    .path(field)
                    .asLong();
        return total;
    }

    /** The emitter's own pace and its pause before retrying a refused request: how emitters behave, not a wait. */
    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
