package io.jobstream.redis;

import java.net.URI;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisException;

/**
 * One node's pooled connection to the cluster's Redis, opaque outside this package so that only {@code redis}
 * imports the client library. Closed by Server, after everything that uses it.
 */
public final class RedisConnection implements AutoCloseable {
    /**
     * A subscribed connection is idle while nothing is published, and Jedis reads it with the blocking-command timeout
     * (10 s): it is pinged this often so that an idle subscription never times out, and a dead one is found.
     */
    static final int SUBSCRIBER_PING_MILLIS = 5_000;

    private final RedisClient client;
    private final String url;

    private RedisConnection(RedisClient client, String url) {
        this.client = client;
        this.url = url;
    }

    /**
     * Connects and checks that Redis answers, so that a node started while Redis is down or misnamed fails saying
     * which Redis, rather than with the client library's bare "Failed to connect".
     *
     * @param maxConnections pool size: HTTP intake threads share it, plus one each for the long-running loops
     */
    public static RedisConnection open(String url, int maxConnections) {
        RedisClient client = RedisKeys.connect(url, maxConnections);
        try {
            client.ping();
        } catch (JedisException e) {
            client.close();
            URI u = URI.create(url);
            throw new IllegalStateException(
                    "cannot reach Redis at " + u.getHost() + ":" + (u.getPort() < 0 ? 6379 : u.getPort())
                            + " (--redis-url): " + e.getMessage(),
                    e);
        }
        return new RedisConnection(client, url);
    }

    /**
     * A separate client for one pub/sub subscription, whose read timeout allows for idle periods between pings. It
     * speaks RESP2, where a subscribed connection answers PING with a pub/sub message: under RESP3 the answer is a
     * plain PONG, which Jedis 8 matches to a handler it queues only after sending the PING, so a fast PONG broke the
     * subscription ("Unexpected message : PONG").
     */
    RedisClient openSubscriber() {
        return RedisKeys.connect(url, 1, 3 * SUBSCRIBER_PING_MILLIS, RedisProtocol.RESP2);
    }

    /**
     * A one-connection client named {@code name} (CLIENT SETNAME) and kept open: while it is connected, Redis lists
     * it in CLIENT LIST; when the process dies, even by SIGKILL, the kernel closes its socket and Redis drops it.
     */
    RedisClient openNamed(String name) {
        return RedisKeys.connect(url, 1, 2_000, null, name);
    }

    RedisClient client() {
        return client;
    }

    @Override
    public void close() {
        client.close();
    }
}
