package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.broadcast.TestEvents;
import io.jobstream.event.CommittedBatch;
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

/**
 * The cross-node relay against a real redis-server, what only it must survive (idle and busy subscriptions); what every
 * broadcaster promises is in {@link RedisBroadcasterContractIT}.
 */
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
    void an_idle_subscription_stays_subscribed_past_the_read_timeout() throws Exception {
        Thread.sleep(12_000); // longer than the 10 s read timeout of blocking commands: the subscriber pings
        a.publish(new CommittedBatch(List.of(TestEvents.stored(3, 42, 3, "z")), List.of()));
        await().atMost(Duration.ofSeconds(5)).until(() -> onB.frames.size() == 1);
        assertThat(registryB
                        .counter(io.jobstream.metrics.Metrics.RELAY_FAILURES)
                        .count())
                .as("subscription lost and renewed")
                .isZero();
    }

    @Test
    void pings_sent_while_the_subscription_is_busy_never_break_it() {
        for (int i = 0; i < 20_000; i++) b.pingSubscription(); // each PONG races the next PING on the one connection
        a.publish(new CommittedBatch(List.of(TestEvents.stored(4, 42, 4, "p")), List.of()));
        await().atMost(Duration.ofSeconds(10)).until(() -> onB.frames.size() == 1);
        assertThat(registryB
                        .counter(io.jobstream.metrics.Metrics.RELAY_FAILURES)
                        .count())
                .as("subscription lost and renewed")
                .isZero();
    }
}
