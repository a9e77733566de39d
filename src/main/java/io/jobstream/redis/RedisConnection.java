package io.jobstream.redis;

import redis.clients.jedis.RedisClient;

/**
 * One node's pooled connection to the cluster's Redis, opaque outside this package so that only {@code redis}
 * imports the client library. Closed by Server, after everything that uses it.
 */
public final class RedisConnection implements AutoCloseable {
    private final RedisClient client;

    private RedisConnection(RedisClient client) {
        this.client = client;
    }

    /** @param maxConnections pool size: HTTP intake threads share it, plus one each for the long-running loops */
    public static RedisConnection open(String url, int maxConnections) {
        return new RedisConnection(RedisKeys.connect(url, maxConnections));
    }

    RedisClient client() {
        return client;
    }

    @Override
    public void close() {
        client.close();
    }
}
