package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.testing.DebianPostgres;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.WsTestClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamPendingEntry;

/**
 * Issue 12.9, with real parts (two node processes, Debian redis-server and PostgreSQL): a node killed while it holds
 * uncommitted stream entries leaves a hole in its jobs that a subscriber on the survivor must wait out, not skip.
 * The node is frozen (SIGSTOP) at a moment it holds entries, so that what it holds is known, then killed (SIGKILL).
 * With the hole wait at 5 s, a subscriber used to skip the held counters and get them late, out of order, once the
 * survivor claimed them after the heartbeat timeout (3 runs of 4 failed so with the default 10 s; 20 s here makes
 * that certain, and the claim must come within 5 s all the same, since a killed node is found by its connection).
 */
class ClusterOrderIT {
    private static final long JOB = 901;

    @TempDir
    static Path dir;

    static RedisServer redisServer;
    static DebianPostgres postgres;
    static RedisClient redis;

    private final List<NodeProcess> nodes = new ArrayList<>();
    private WsTestClient client;
    /** The job the emitter feeds and the subscriber follows (each test its own: they share the database). */
    private long job = JOB;
    /** Events per request: each request is one stream entry (a batch). */
    private int perRequest = 10;
    /** Whether the victim must be caught with an entry partly committed (some of its events stored, not all). */
    private boolean partly;

    @BeforeAll
    static void startRedisAndPostgres() {
        redisServer = RedisServer.start(dir.resolve("redis"), true);
        postgres = DebianPostgres.start(Path.of("/tmp")
                .resolve("jobstream-order-pg-" + ProcessHandle.current().pid()));
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
        if (client != null) client.abort();
        nodes.forEach(NodeProcess::proceed);
        nodes.forEach(NodeProcess::close);
    }

    @Test
    void issue_12_a_subscriber_on_a_survivor_gets_every_counter_once_in_order_when_a_node_dies_holding_events()
            throws Exception {
        dieHoldingEntries(Map.of());
    }

    /**
     * A batch entry (one request of 200 events) is committed 25 events at a time ({@code persist.max-batch}), so a node
     * frozen then killed while it holds one has committed part of it: the survivor claims the whole entry, the store
     * ignores the part already committed, and the subscriber still gets every counter once, in order.
     */
    @Test
    void a_batch_entry_partly_committed_by_a_node_that_dies_is_claimed_whole_nothing_lost_repeated_or_reordered()
            throws Exception {
        job = 902;
        perRequest = 200;
        partly = true;
        dieHoldingEntries(Map.of("persist.max-batch", "25"));
    }

    private void dieHoldingEntries(Map<String, String> extra) throws Exception {
        Map<String, String> settings = new java.util.TreeMap<>(Map.of(
                "database-url",
                postgres.url(),
                "redis-url",
                redisServer.url(),
                "redis.node-timeout",
                "20s",
                "ws.hole-wait",
                "5s",
                "ws.gap-wait",
                "2s"));
        settings.putAll(extra);
        ExecutorService starter = Executors.newFixedThreadPool(2);
        String prefix = "o" + job + "-";
        Future<NodeProcess> first =
                starter.submit(() -> NodeProcess.start(prefix + 1, dir.resolve(prefix + 1), settings));
        Future<NodeProcess> second =
                starter.submit(() -> NodeProcess.start(prefix + 2, dir.resolve(prefix + 2), settings));
        NodeProcess victim = first.get(2, TimeUnit.MINUTES);
        NodeProcess survivor = second.get(2, TimeUnit.MINUTES);
        nodes.addAll(List.of(victim, survivor));
        starter.shutdown();
        List<Integer> received = subscribe(survivor);

        // one emitter, counters in order, to the survivor; both nodes take their share from the stream
        AtomicBoolean emitting = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        ExecutorService emitter = Executors.newSingleThreadExecutor();
        Future<?> emitted = emitter.submit(() -> emit(survivor, emitting, sent));

        await().atMost(Duration.ofSeconds(30)).until(() -> sent.get() >= 500); // mid-stream, the job well under way
        List<Integer> held = freezeHolding(victim);
        System.out.println("froze " + victim.name() + " holding counters " + held + ", of which stored "
                + storedAmong(held).size());
        victim.kill();
        nodes.remove(victim);

        long killed = System.nanoTime();
        await().atMost(Duration.ofSeconds(40))
                .until(() -> pendingOf(victim.name()).isEmpty());
        Duration claimedAfter = Duration.ofNanos(System.nanoTime() - killed);
        // the scenario: the job goes on well past the subscribers' hole wait after the kill (a subscriber used to skip)
        Thread.sleep(Math.max(0, 9_000 - claimedAfter.toMillis()));
        emitting.set(false);
        emitted.get(30, TimeUnit.SECONDS);
        emitter.shutdown();
        int last = sent.get();
        assertThat(Http.post(survivor.uri("/api/v2/job_events/ingest/"), Events.eof(job, last))
                        .statusCode())
                .isEqualTo(200);
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(Http.getJson(survivor.uri("/api/v2/jobs/" + job + "/"))
                                .path("event_processing_finished")
                                .asBoolean())
                        .as("every counter stored")
                        .isTrue());
        await().atMost(Duration.ofSeconds(30)).until(() -> received.size() >= last);
        // and nothing more for half a second: anything extra (a duplicate, a late one) would come by then
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> received.size() == last);
        assertThat(disorder(received, last))
                .as("counters received by the subscriber on the survivor, against 1..%d", last)
                .isEmpty();
        assertThat(claimedAfter)
                .as("the dead node's entries claimed: found dead at once (its connection is gone), not"
                        + " after the 20 s heartbeat timeout")
                .isLessThan(Duration.ofSeconds(5));
    }

    /** Where {@code received} differs from 1..last: each counter out of place, missing or repeated (the first few). */
    private static List<String> disorder(List<Integer> received, int last) {
        List<String> found = new ArrayList<>();
        for (int i = 0; i < received.size() && found.size() < 10; i++) {
            if (received.get(i) != i + 1) {
                found.add("#" + (i + 1) + " was " + received.get(i) + " after "
                        + (i == 0 ? "nothing" : received.get(i - 1)));
                break; // the rest is shifted by it
            }
        }
        TreeSet<Integer> missing =
                new TreeSet<>(IntStream.rangeClosed(1, last).boxed().toList());
        received.forEach(missing::remove);
        if (!missing.isEmpty()) found.add(missing.size() + " missing, first " + missing.first());
        long repeated = received.size() - received.stream().distinct().count();
        if (repeated > 0) found.add(repeated + " received twice");
        return found;
    }

    /** Sends counters 1, 2, 3 … in requests of 10, about 1,000 events per second, until told to stop. */
    private void emit(NodeProcess node, AtomicBoolean emitting, AtomicInteger sent) {
        while (emitting.get()) {
            List<String> lines = new ArrayList<>();
            for (int i = 1; i <= perRequest; i++) lines.add(Events.event(job, sent.get() + i));
            HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), String.join("\n", lines));
            if (r.statusCode() == 200) sent.addAndGet(perRequest);
            sleep(perRequest);
        }
    }

    /**
     * Freezes the victim at a moment it holds read entries it has not committed (pending entries it has committed
     * but not yet acknowledged do not count), and returns the counters it holds; tries again (after letting it go
     * on) until it is caught so.
     */
    private List<Integer> freezeHolding(NodeProcess victim) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (pendingOf(victim.name()).isEmpty()) {
                sleep(1);
                continue;
            }
            victim.pause();
            List<Integer> held = pendingOf(victim.name());
            int stored = held.isEmpty() ? 0 : storedAmong(held).size();
            if (!held.isEmpty() && stored < held.size() && (!partly || stored > 0)) return held;
            victim.proceed();
        }
        throw new AssertionError("node " + victim.name() + " was never caught holding entries");
    }

    /** The counters of the stream entries {@code consumer} has read and not acknowledged. */
    private static List<Integer> pendingOf(String consumer) {
        List<StreamPendingEntry> pending = redis.xpending(
                RedisKeys.EVENTS,
                RedisKeys.GROUP,
                XPendingParams.xPendingParams().consumer(consumer).count(10_000));
        List<Integer> counters = new ArrayList<>();
        for (StreamPendingEntry p : pending) {
            StreamEntryID id = p.getID();
            for (StreamEntry e : redis.xrange(RedisKeys.EVENTS, id, id, 1)) {
                for (JobMessage m : ClusterCodec.decodeEntry(e.getFields().get("m")))
                    if (m instanceof JobEvent event) counters.add(event.counter());
            }
        }
        return counters;
    }

    private List<Integer> storedAmong(List<Integer> counters) {
        TreeSet<Integer> wanted = new TreeSet<>(counters);
        JsonNode page = Http.getJson(nodes.get(nodes.size() - 1)
                .uri("/api/v2/jobs/" + job + "/job_events/?counter__gte=" + wanted.first() + "&counter__lte="
                        + wanted.last() + "&page_size=200"));
        List<Integer> stored = new ArrayList<>();
        for (JsonNode e : page.path("results"))
            if (wanted.contains(e.path("counter").asInt()))
                stored.add(e.path("counter").asInt());
        return stored;
    }

    /** Counters of job {@link #job} in the order one websocket client on {@code node} receives them. */
    private List<Integer> subscribe(NodeProcess node) throws Exception {
        client = WsTestClient.connect(node.websocketUri(), "csrftoken=it", true);
        assertThat(client.next().path("accept").asBoolean()).isTrue();
        client.send("{\"xrftoken\":\"it\",\"groups\":{\"job_events\":[" + job + "]}}");
        assertThat(client.next().path("groups_current").toString()).contains("job_events-" + job);
        List<Integer> received = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try {
                while (true) {
                    String frame = client.frames.poll(1, TimeUnit.HOURS);
                    if (frame == null) return;
                    JsonNode m = Http.json(frame);
                    if ("job_events".equals(m.path("group_name").asText()))
                        received.add(m.path("counter").asInt());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        reader.setDaemon(true);
        reader.start();
        return received;
    }

    /**
     * The emitter's pace (about 1,000 events/s) and the poll that catches the victim holding entries: the scenario's
     * timing, not a wait before an assertion.
     */
    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
