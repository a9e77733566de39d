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
