package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.broadcast.Broadcaster;
import io.jobstream.broadcast.BroadcasterContract;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.broadcast.TestEvents;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.metrics.Hops;
import io.jobstream.metrics.Metrics;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Protocol;

/**
 * The broadcaster contract for the cluster, against a real redis-server: two nodes in one JVM, each with its own hub;
 * node a publishes, and both hubs must see it (a's directly, b's through pub/sub).
 */
class RedisBroadcasterContractIT extends BroadcasterContract {
    @TempDir
    static Path dir;

    static RedisServer server;
    static RedisConnection connection;
    RedisBroadcaster a;
    RedisBroadcaster b;
    Frames onA;
    Frames onB;

    @BeforeAll
    static void startRedis() {
        server = RedisServer.start(dir, false);
        connection = RedisConnection.open(server.url(), 8);
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        server.close();
    }

    SimpleMeterRegistry registryB;
    Hub hubB;

    @BeforeEach
    void startNodes() {
        SimpleMeterRegistry registryA = new SimpleMeterRegistry();
        registryB = new SimpleMeterRegistry();
        Hub hubA = new Hub(registryA);
        hubB = new Hub(registryB);
        onA = member(hubA);
        onB = member(hubB);
        a = new RedisBroadcaster(new MemoryBroadcaster(hubA, registryA), connection, "a", registryA);
        b = new RedisBroadcaster(new MemoryBroadcaster(hubB, registryB), connection, "b", registryB);
        a.start();
        b.start();
        // PUBLISH answers how many subscribers got the message: wait until both listen
        await().atMost(Duration.ofSeconds(5)).until(() -> connection.client().publish(RedisKeys.BROADCAST, "{}") == 2);
        // and both follow the jobs their members watch
        for (long job : List.of(42L, 43L)) {
            String channel = RedisKeys.jobChannel(job);
            await().atMost(Duration.ofSeconds(5)).until(() -> subscribers(channel) == 2);
        }
    }

    @AfterEach
    void stopNodes() {
        a.close();
        b.close();
    }

    /**
     * Node b receives only the events of jobs someone on it watches (42 and 43 here, not 44): Redis carries each job's
     * events on a channel of its own, which a node subscribes to while the job has a member here. Job changes go to
     * every node. The watched jobs' events are counted in b's hops as they arrive.
     */
    @Test
    void a_node_receives_the_events_of_the_jobs_watched_on_it_and_every_jobs_changes() {
        a.publish(new CommittedBatch(
                List.of(
                        TestEvents.stored(1, 44, 1, "x"),
                        TestEvents.stored(2, 42, 1, "a"),
                        TestEvents.stored(3, 44, 2, "y"),
                        TestEvents.stored(4, 43, 1, "b"),
                        TestEvents.stored(5, 44, 3, "z"),
                        TestEvents.stored(6, 42, 2, "c")),
                List.of(new JobChange(44, "successful", 3, true))));
        await().atMost(Duration.ofSeconds(5)).until(() -> onB.frames.size() >= 5);
        assertThat(onB.frames)
                .as("the same frames, text and all, as on the committing node, each job's in order")
                .containsExactlyInAnyOrderElementsOf(onA.frames);
        assertThat(onB.frames.subList(0, 3))
                .extracting(f -> f.substring(0, f.indexOf(' ')))
                .containsExactly("job_events-42", "job_events-42", "job_events-43");
        assertThat(onB.frames.subList(3, 5))
                .as("the unwatched job's change arrives after the events")
                .extracting(f -> f.substring(0, f.indexOf(' ')))
                .containsExactly("jobs-status_changed", "jobs-summary");
        assertThat(Hops.on(registryB)
                        .hop(Metrics.HOP_COMMITTED_PUBLISHED)
                        .snapshot()
                        .count())
                .isEqualTo(3);
        assertThat(subscribers(RedisKeys.jobChannel(44)))
                .as("nobody subscribed to the unwatched job")
                .isZero();
    }

    /**
     * A job watched on b from now on: b subscribes to its channel, tells the job's members to compare with the store
     * (what was committed before may have passed b by), then gets its events; when the last member leaves, b
     * unsubscribes.
     */
    @Test
    void a_node_follows_a_job_from_its_first_member_and_lets_it_go_after_its_last() {
        String channel = RedisKeys.jobChannel(45);
        Frames late = new Frames();
        hubB.join("job_events-45", late);
        await().atMost(Duration.ofSeconds(5)).until(() -> late.rechecks.size() == 1);
        assertThat(subscribers(channel)).isEqualTo(1);

        a.publish(new CommittedBatch(List.of(TestEvents.stored(7, 45, 1, "late")), List.of()));
        await().atMost(Duration.ofSeconds(5)).until(() -> late.frames.size() == 1);
        assertThat(late.frames.get(0)).startsWith("job_events-45 ");

        hubB.leave("job_events-45", late);
        await().atMost(Duration.ofSeconds(5)).until(() -> subscribers(channel) == 0);
    }

    /** PUBSUB NUMSUB: connections subscribed to {@code channel}. */
    private static long subscribers(String channel) {
        Object reply = connection.client().sendCommand(Protocol.Command.PUBSUB, "NUMSUB", channel);
        if (reply instanceof Map<?, ?> map)
            return (Long) map.values().iterator().next(); // RESP3
        return (Long) ((List<?>) reply).get(1);
    }

    @Override
    protected Broadcaster broadcaster() {
        return a;
    }

    @Override
    protected List<Frames> members() {
        return List.of(onA, onB);
    }
}
