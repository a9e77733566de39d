package io.jobstream.redis;

import static org.awaitility.Awaitility.await;

import io.jobstream.broadcast.Broadcaster;
import io.jobstream.broadcast.BroadcasterContract;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
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

    @BeforeEach
    void startNodes() {
        SimpleMeterRegistry registryA = new SimpleMeterRegistry();
        SimpleMeterRegistry registryB = new SimpleMeterRegistry();
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

    @Override
    protected Broadcaster broadcaster() {
        return a;
    }

    @Override
    protected List<Frames> members() {
        return List.of(onA, onB);
    }
}
