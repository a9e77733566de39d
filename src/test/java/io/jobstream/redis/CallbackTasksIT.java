package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobEvent;
import io.jobstream.queue.Envelope;
import io.jobstream.testing.Events;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/** AWX's {@code callback_tasks} list against a real redis-server: consumed into the stream, recovered from dead nodes. */
class CallbackTasksIT {
    @TempDir
    Path dir;

    RedisServer server;
    RedisConnection connection;
    RedisClient redis;
    CallbackTasks tasks;

    @BeforeEach
    void start() {
        server = RedisServer.start(dir, false);
        connection = RedisConnection.open(server.url(), 8);
        redis = connection.client();
    }

    @AfterEach
    void stop() {
        if (tasks != null) tasks.close();
        connection.close();
        server.close();
    }

    private Set<Integer> drainCounters(RedisEventQueue queue, int expected) {
        Set<Integer> counters = new TreeSet<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<Envelope> sink = new ArrayList<>();
            queue.drainTo(sink, 1000, Duration.ofMillis(100));
            for (Envelope e : sink) {
                if (e.message() instanceof JobEvent ev) counters.add(ev.counter());
                e.receipt().stored();
            }
            return counters.size() >= expected;
        });
        return counters;
    }

    @Test
    void awx_payloads_pushed_onto_callback_tasks_reach_the_stream_and_bad_ones_are_dead_lettered() {
        RedisEventQueue queue = new RedisEventQueue(connection, "me", 10_000, n -> true, new SimpleMeterRegistry());
        tasks = new CallbackTasks(
                connection,
                "me",
                new EventDecoder(1 << 20, Clock.systemUTC()),
                queue,
                n -> true,
                Duration.ofSeconds(1),
                new SimpleMeterRegistry(),
                ids -> Map.of()); // no store here: every job writable
        tasks.start();
        for (int c = 1; c <= 300; c++) redis.rpush(RedisKeys.CALLBACK_TASKS, Events.event(11, c));
        redis.rpush(RedisKeys.CALLBACK_TASKS, "{not json");
        assertThat(drainCounters(queue, 300)).hasSize(300);
        await().atMost(Duration.ofSeconds(5)).until(() -> redis.xlen(RedisKeys.DEAD) == 1);
        assertThat(redis.llen(RedisKeys.CALLBACK_TASKS)).isZero();
        assertThat(redis.llen(RedisKeys.processing("me")))
                .as("processing list cleared once appended")
                .isZero();
    }

    @Test
    void invalid_payloads_among_good_ones_in_big_batches_are_dead_lettered_and_every_good_one_is_kept() {
        RedisEventQueue queue = new RedisEventQueue(connection, "me", 100_000, n -> true, new SimpleMeterRegistry());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<String> bad = List.of(
                "{not json", "", "[]", "{\"job_id\":13}", "{\"job_id\":-1,\"counter\":1,\"event\":\"x\"}", "\u0000");
        int good = 3 * CallbackTasks.MAX_BATCH + 7; // more than one move's worth
        String padding = "p".repeat(3_000); // and some moves cut by the byte budget instead
        List<String> pushed = new ArrayList<>();
        for (int c = 1; c <= good; c++) {
            String e = Events.event(13, c);
            pushed.add(c % 3 == 0 ? e.replace("\"stdout\":\"", "\"stdout\":\"" + padding) : e);
            if (c % 500 == 1) pushed.add(bad.get((c / 500) % bad.size()));
        }
        long badCount = pushed.size() - good;
        for (int from = 0; from < pushed.size(); from += 1_000)
            redis.rpush(
                    RedisKeys.CALLBACK_TASKS,
                    pushed.subList(from, Math.min(from + 1_000, pushed.size())).toArray(String[]::new));
        tasks = new CallbackTasks(
                connection,
                "me",
                new EventDecoder(1 << 20, Clock.systemUTC()),
                queue,
                n -> true,
                Duration.ofSeconds(1),
                registry,
                ids -> Map.of());
        tasks.start();
        Set<Integer> counters = drainCounters(queue, good);
        assertThat(counters).hasSize(good).first().isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> redis.xlen(RedisKeys.DEAD) >= badCount);
        assertThat(redis.xlen(RedisKeys.DEAD)).isEqualTo(badCount);
        assertThat(registry.counter(io.jobstream.metrics.Metrics.CALLBACK_POPPED)
                        .count())
                .isEqualTo(pushed.size());
        assertThat(redis.llen(RedisKeys.CALLBACK_TASKS)).isZero();
        assertThat(redis.llen(RedisKeys.processing("me"))).isZero();
    }

    @Test
    void a_stream_bound_smaller_than_a_batch_still_lets_every_message_through_in_smaller_batches() {
        RedisEventQueue queue = new RedisEventQueue(connection, "me", 10, n -> true, new SimpleMeterRegistry());
        tasks = new CallbackTasks(
                connection,
                "me",
                new EventDecoder(1 << 20, Clock.systemUTC()),
                queue,
                n -> true,
                Duration.ofSeconds(1),
                new SimpleMeterRegistry(),
                ids -> Map.of());
        for (int c = 1; c <= 60; c++) redis.rpush(RedisKeys.CALLBACK_TASKS, Events.event(14, c));
        tasks.start();
        assertThat(drainCounters(queue, 60)).hasSize(60);
        assertThat(redis.llen(RedisKeys.CALLBACK_TASKS)).isZero();
    }

    @Test
    void a_move_takes_the_head_of_the_list_in_order_within_its_count_and_byte_bounds_leaving_the_rest() {
        CallbackMover mover = new CallbackMover(redis, RedisKeys.processing("m"), 10, 1_000);
        redis.rpush(RedisKeys.CALLBACK_TASKS, "a".repeat(5_000)); // bigger than the budget: moves alone
        for (int i = 0; i < 25; i++) redis.rpush(RedisKeys.CALLBACK_TASKS, String.format("%03d", i) + "b".repeat(197));
        assertThat(mover.move()).hasSize(1).allMatch(m -> m.length == 5_000);
        mover.done();
        List<byte[]> second = mover.move(); // 200-byte messages, 1,000 bytes: five of them
        assertThat(second).extracting(m -> new String(m, 0, 3)).containsExactly("000", "001", "002", "003", "004");
        assertThat(mover.leftOver()).hasSize(5);
        assertThat(redis.llen(RedisKeys.CALLBACK_TASKS)).isEqualTo(20);
        mover.done();
        CallbackMover byCount = new CallbackMover(redis, RedisKeys.processing("m"), 10, 1 << 20);
        assertThat(byCount.move()).hasSize(10);
        assertThat(byCount.leftOver()).hasSize(10);
        assertThat(redis.llen(RedisKeys.CALLBACK_TASKS)).isEqualTo(10);
        assertThat(redis.lindex(RedisKeys.CALLBACK_TASKS, 0)).startsWith("015");
        byCount.done();
        assertThat(byCount.move()).hasSize(10);
        assertThat(byCount.move()).isEmpty();
        assertThat(byCount.take(0.1)).isEmpty(); // waits, then nothing
        byCount.done();
        CallbackMover one = new CallbackMover(redis, RedisKeys.processing("m"), 1, 1 << 20);
        redis.rpush(RedisKeys.CALLBACK_TASKS, "x", "y");
        assertThat(one.take(0.1)).as("never more than its count").hasSize(1);
        one.done();
        assertThat(one.take(0.1)).hasSize(1);
        one.done();
        // and after waiting: both arrive while BLMOVE blocks on the empty list
        var pusher = java.util.concurrent.CompletableFuture.runAsync(() -> {
            await().pollDelay(Duration.ofMillis(300)).until(() -> true); // BLMOVE is waiting by then
            redis.rpush(RedisKeys.CALLBACK_TASKS, "x", "y");
        });
        assertThat(one.take(5.0))
                .as("never more than its count, also after waiting")
                .hasSize(1);
        pusher.join();
        assertThat(redis.llen(RedisKeys.CALLBACK_TASKS)).isEqualTo(1);
    }

    @Test
    void messages_a_dead_node_had_taken_go_back_onto_callback_tasks_and_are_consumed() {
        for (int c = 1; c <= 5; c++) redis.rpush(RedisKeys.processing("gone"), Events.event(12, c));
        RedisEventQueue queue = new RedisEventQueue(connection, "me", 10_000, n -> true, new SimpleMeterRegistry());
        tasks = new CallbackTasks(
                connection,
                "me",
                new EventDecoder(1 << 20, Clock.systemUTC()),
                queue,
                n -> !n.equals("gone"),
                Duration.ofMillis(200),
                new SimpleMeterRegistry(),
                ids -> Map.of());
        tasks.start();
        assertThat(drainCounters(queue, 5)).containsExactly(1, 2, 3, 4, 5);
        assertThat(redis.exists(RedisKeys.processing("gone"))).isFalse();
    }
}
