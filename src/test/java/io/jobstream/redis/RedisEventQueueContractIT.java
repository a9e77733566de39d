package io.jobstream.redis;

import io.jobstream.queue.EventQueue;
import io.jobstream.queue.EventQueueContract;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The queue contract for the cluster's stream, against a real redis-server (one for the class, flushed per test). */
class RedisEventQueueContractIT extends EventQueueContract {
    @TempDir
    static Path dir;

    static RedisServer server;
    static RedisConnection connection;
    final AtomicInteger nodes = new AtomicInteger();

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
    void emptyRedis() {
        connection.client().flushAll();
    }

    @Override
    protected EventQueue newQueue(int capacity) {
        return open("node" + nodes.incrementAndGet(), capacity);
    }

    @Override
    protected EventQueue reopen(EventQueue queue) {
        RedisEventQueue old = (RedisEventQueue) queue;
        return track(open(old.consumer(), old.capacity())); // the same node name, as a restarted node has
    }

    private static RedisEventQueue open(String node, int capacity) {
        return new RedisEventQueue(connection, node, capacity, n -> true, new SimpleMeterRegistry());
    }
}
