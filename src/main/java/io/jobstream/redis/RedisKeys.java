package io.jobstream.redis;

import java.net.URI;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisProtocol;

/**
 * The Redis names jobstream uses (one place, so that operators can find them in OPERATIONS.md) and how to connect.
 * {@code callback_tasks} is AWX's own list name; everything else lives under {@code jobstream:}.
 */
public final class RedisKeys {
    /** AWX's list: emitters RPUSH event JSON, receivers pop it (reference §1.7). */
    public static final String CALLBACK_TASKS = "callback_tasks";
    /** The durable event stream (one entry per batch of decoded messages) and its consumer group. */
    public static final String EVENTS = "jobstream:events";

    /** How many events the stream's entries hold (its bound is in events; an entry holds a batch). */
    public static final String QUEUED = "jobstream:events:queued";

    public static final String GROUP = "jobstream";
    /** Entries that killed nodes too often, or could not be read: kept for an operator, never silently dropped. */
    public static final String DEAD = "jobstream:events:dead";
    /** Pub/sub channel of committed batches' job changes and of status changes (and all of an older node's batches). */
    public static final String BROADCAST = "jobstream:broadcast";

    /** Prefix of the pub/sub channel of one job's committed events, subscribed by the nodes that watch the job. */
    static final String JOB_CHANNEL_PREFIX = BROADCAST + ":job:";

    static String jobChannel(long jobId) {
        return JOB_CHANNEL_PREFIX + jobId;
    }

    static final String NODE_PREFIX = "jobstream:node:";
    static final String PROCESSING_PREFIX = "jobstream:callback:processing:";

    private RedisKeys() {}

    static String node(String name) {
        return NODE_PREFIX + name;
    }

    static String processing(String name) {
        return PROCESSING_PREFIX + name;
    }

    /**
     * A pooled client for {@code redis://[user:password@]host:port[/db]}. Commands time out after 2 s so that an
     * unreachable Redis turns into a quick error (ingest answers 503) rather than a hung request thread; the pool
     * waits at most 2 s for a free connection for the same reason.
     */
    public static RedisClient connect(String url, int maxConnections) {
        return connect(url, maxConnections, 2_000, null);
    }

    /**
     * As {@link #connect(String, int)} with another read timeout (pub/sub: a subscriber reads nothing while idle) and
     * protocol (null: the client's default).
     */
    static RedisClient connect(String url, int maxConnections, int socketTimeoutMillis, RedisProtocol protocol) {
        return connect(url, maxConnections, socketTimeoutMillis, protocol, null);
    }

    /** As above; each connection is named {@code clientName} (CLIENT SETNAME) when that is not null. */
    static RedisClient connect(
            String url, int maxConnections, int socketTimeoutMillis, RedisProtocol protocol, String clientName) {
        URI uri = URI.create(url);
        var config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(2_000)
                .socketTimeoutMillis(socketTimeoutMillis)
                .blockingSocketTimeoutMillis(10_000)
                .ssl("rediss".equals(uri.getScheme()));
        if (protocol != null) config.protocol(protocol);
        if (clientName != null) config.clientName(clientName);
        String path = uri.getPath() == null ? "" : uri.getPath().replace("/", "");
        if (!path.isEmpty()) config.database(Integer.parseInt(path));
        if (uri.getUserInfo() != null) {
            String[] parts = uri.getUserInfo().split(":", 2);
            if (parts.length == 2) {
                if (!parts[0].isEmpty()) config.user(parts[0]);
                config.password(parts[1]);
            } else {
                config.password(parts[0]);
            }
        }
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(maxConnections);
        pool.setMaxIdle(maxConnections);
        pool.setMaxWait(java.time.Duration.ofSeconds(2));
        pool.setTestWhileIdle(true);
        return RedisClient.builder()
                .hostAndPort(uri.getHost(), uri.getPort() < 0 ? 6379 : uri.getPort())
                .clientConfig(config.build())
                .poolConfig(pool)
                .build();
    }
}
