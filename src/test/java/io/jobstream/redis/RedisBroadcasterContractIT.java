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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @BeforeEach
    void startNodes() {
        SimpleMeterRegistry registryA = new SimpleMeterRegistry();
        registryB = new SimpleMeterRegistry();
        Hub hubA = new Hub(registryA);
        Hub hubB = new Hub(registryB);
        onA = member(hubA);
        onB = member(hubB);
        a = new RedisBroadcaster(new MemoryBroadcaster(hubA, registryA), connection, "a", registryA);
        b = new RedisBroadcaster(new MemoryBroadcaster(hubB, registryB), connection, "b", registryB);
        a.start();
        b.start();
        // PUBLISH answers how many subscribers got the message: wait until both listen
        await().atMost(Duration.ofSeconds(5)).until(() -> connection.client().publish(RedisKeys.BROADCAST, "{}") == 2);
    }

    @AfterEach
    void stopNodes() {
        a.close();
        b.close();
    }

    /**
     * Node b decodes only the events of jobs someone on it watches (42 and 43 here, not 44): those reach its hub in
     * order with their text, and every event of the batch counts in b's hops all the same.
     */
    @Test
    void events_of_jobs_nobody_watches_on_a_node_are_not_decoded_there_but_count_in_its_hops() {
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
                .as("the same frames, text and all, as on the committing node")
                .isEqualTo(onA.frames);
        assertThat(onB.frames.subList(0, 3))
                .extracting(f -> f.substring(0, f.indexOf(' ')))
                .containsExactly("job_events-42", "job_events-43", "job_events-42");
        assertThat(onB.frames.subList(3, 5))
                .as("the unwatched job's change still arrives")
                .extracting(f -> f.substring(0, f.indexOf(' ')))
                .containsExactly("jobs-status_changed", "jobs-summary");
        for (String hop : List.of(Metrics.HOP_CREATED_RECEIVED, Metrics.HOP_COMMITTED_PUBLISHED)) {
            assertThat(Hops.on(registryB).hop(hop).snapshot().count()).as(hop).isEqualTo(6);
        }
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
