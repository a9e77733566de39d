package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.broadcast.TestEvents;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cross-node relay against a real redis-server: two "nodes" in one JVM, each with its own hub. */
class RedisBroadcasterIT {
    @TempDir
    Path dir;
    RedisServer server;
    RedisConnection connection;
    RedisBroadcaster a;
    RedisBroadcaster b;
    final Frames onA = new Frames();
    final Frames onB = new Frames();

    static final class Frames implements GroupMember {
        final List<String> frames = new CopyOnWriteArrayList<>();

        @Override
        public boolean offer(String group, String frame) {
            frames.add(group + " " + frame);
            return true;
        }
    }

    final SimpleMeterRegistry registryB = new SimpleMeterRegistry();

    private RedisBroadcaster node(String name, Frames member) {
        SimpleMeterRegistry registry = name.equals("b") ? registryB : new SimpleMeterRegistry();
        Hub hub = new Hub(registry);
        hub.join("job_events-42", member);
        hub.join("jobs-summary", member);
        RedisBroadcaster relay = new RedisBroadcaster(new MemoryBroadcaster(hub, registry), connection, name, registry);
        relay.start();
        return relay;
    }

    @BeforeEach
    void start() {
        server = RedisServer.start(dir, false);
        connection = RedisConnection.open(server.url(), 8);
        a = node("a", onA);
        b = node("b", onB);
        // PUBLISH answers how many subscribers got the message: wait until both listen
        await().atMost(Duration.ofSeconds(5)).until(() -> connection.client().publish(RedisKeys.BROADCAST, "{}") == 2);
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        connection.close();
        server.close();
    }

    @Test
    void a_batch_committed_on_one_node_reaches_the_other_nodes_hub_once_and_its_own_directly() {
        a.publish(new CommittedBatch(List.of(TestEvents.stored(1, 42, 1, "x"), TestEvents.stored(2, 42, 2, "y")),
                List.of(new JobChange(42, null, 2, true))));
        await().atMost(Duration.ofSeconds(5)).until(() -> onB.frames.size() == 3);
        assertThat(onA.frames).hasSize(3);
        assertThat(onB.frames.get(0)).startsWith("job_events-42 ").contains("\"counter\":1");
        assertThat(onB.frames.get(2)).startsWith("jobs-summary ").contains("\"final_counter\":2");
        assertThat(onB.frames).isEqualTo(onA.frames);
    }

    @Test
    void an_idle_subscription_stays_subscribed_past_the_read_timeout() throws Exception {
        Thread.sleep(12_000); // longer than the 10 s read timeout of blocking commands: the subscriber pings
        a.publish(new CommittedBatch(List.of(TestEvents.stored(3, 42, 3, "z")), List.of()));
        await().atMost(Duration.ofSeconds(5)).until(() -> onB.frames.size() == 1);
        assertThat(registryB.counter(io.jobstream.metrics.Metrics.RELAY_FAILURES).count())
                .as("subscription lost and renewed").isZero();
    }

    @Test
    void pings_sent_while_the_subscription_is_busy_never_break_it() {
        for (int i = 0; i < 20_000; i++) b.pingSubscription(); // each PONG races the next PING on the one connection
        a.publish(new CommittedBatch(List.of(TestEvents.stored(4, 42, 4, "p")), List.of()));
        await().atMost(Duration.ofSeconds(10)).until(() -> onB.frames.size() == 1);
        assertThat(registryB.counter(io.jobstream.metrics.Metrics.RELAY_FAILURES).count())
                .as("subscription lost and renewed").isZero();
    }
}
