package io.jobstream.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** The whole, validated configuration of one node. Built by {@link ConfigLoader}; immutable. */
public record Config(
        HttpConfig http,
        DatabaseConfig database,
        IngestConfig ingest,
        QueueConfig queue,
        PersistConfig persist,
        WsConfig ws,
        ClusterConfig cluster,
        boolean demo,
        JobsConfig jobs,
        AuthConfig auth,
        RetentionConfig retention) {

    /**
     * @param idleTimeout    a connection that sends nothing for this long is closed
     * @param minRequestRate bytes per second below which a request body upload is cut off (0 = none)
     * @param downloads      how stdout is streamed to a client
     */
    /**
     * @param maxRequestsPerUser HTTP requests one user (or API token) may have in progress at once, ingest excepted;
     *                           0 = no limit ({@code http.max-requests-per-user})
     * @param trustedProxies     peers whose X-Forwarded-For/-Proto are believed ({@code http.trusted-proxies})
     */
    public record HttpConfig(
            String host,
            int port,
            TlsConfig tls,
            Duration idleTimeout,
            long minRequestRate,
            Downloads downloads,
            int maxRequestsPerUser,
            CpuShare cpuPerUser,
            TrustedProxies trustedProxies) {
        public static final int DEFAULT_MAX_REQUESTS_PER_USER = 8;

        public HttpConfig(String host, int port, TlsConfig tls, Duration idleTimeout, long minRequestRate) {
            this(
                    host,
                    port,
                    tls,
                    idleTimeout,
                    minRequestRate,
                    Downloads.DEFAULT,
                    DEFAULT_MAX_REQUESTS_PER_USER,
                    CpuShare.DEFAULT,
                    TrustedProxies.NONE);
        }

        /** The same with other trusted proxies (tests, and a node started in code). */
        public HttpConfig withTrustedProxies(TrustedProxies proxies) {
            return new HttpConfig(
                    host, port, tls, idleTimeout, minRequestRate, downloads, maxRequestsPerUser, cpuPerUser, proxies);
        }
    }

    /**
     * One user's share of the node's CPU for HTTP requests ({@code http.max-cpu-per-user}, {@code
     * http.cpu-burst-per-user}).
     *
     * @param cores CPU-seconds per second on average, 0 = no limit
     * @param burst CPU time that may be spent at once from a full allowance
     */
    public record CpuShare(double cores, Duration burst) {
        public static final CpuShare DEFAULT = new CpuShare(0.5, Duration.ofSeconds(2));
    }

    /**
     * @param pageBytes    stdout read from the store per query of one stdout response ({@code http.download-page-size})
     * @param minRate      bytes per second a client must read a stdout response at, on average, once
     *                     {@code rateGrace} has passed; 0 = no minimum ({@code http.min-response-rate})
     * @param rateGrace    how long a response may be slow at its start (TCP slow start, a busy browser)
     * @param maxPerUser   stdout responses one user may have in progress at once, 0 = no limit
     *                     ({@code http.max-downloads-per-user})
     */
    public record Downloads(long pageBytes, long minRate, Duration rateGrace, int maxPerUser) {
        public static final Downloads DEFAULT = new Downloads(4L << 20, 1L << 10, Duration.ofSeconds(10), 4);
    }

    /**
     * TLS for HTTP and websockets on the one port: off, a PEM certificate and key, or a self-signed certificate
     * that the node makes once and keeps under the data dir (so a browser's exception for it lasts across restarts).
     */
    public record TlsConfig(Optional<Path> cert, Optional<Path> key, boolean selfSigned) {
        public static final TlsConfig OFF = new TlsConfig(Optional.empty(), Optional.empty(), false);

        public boolean enabled() {
            return selfSigned || cert.isPresent();
        }
    }

    /**
     * {@code url} empty means embedded PostgreSQL with its data under {@code dataDir} and its binaries unpacked in
     * {@code binariesDir}.
     */
    public record DatabaseConfig(String url, Path dataDir, int poolSize, Path binariesDir) {
        public boolean embedded() {
            return url.isEmpty();
        }
    }

    /**
     * @param maxRate      events per second per emitter, 0 = no limit
     * @param rateBurst    events an emitter may send at once before it is held to {@code maxRate}
     * @param maxJsonDepth deepest JSON nesting accepted in one event
     */
    public record IngestConfig(
            int maxEventBytes,
            long maxRequestBytes,
            Duration commitTimeout,
            int maxRate,
            int rateBurst,
            int maxJsonDepth,
            List<Pattern> redactPatterns) {
        public IngestConfig {
            redactPatterns = List.copyOf(redactPatterns);
        }

        /** No redaction pattern. */
        public IngestConfig(
                int maxEventBytes,
                long maxRequestBytes,
                Duration commitTimeout,
                int maxRate,
                int rateBurst,
                int maxJsonDepth) {
            this(maxEventBytes, maxRequestBytes, commitTimeout, maxRate, rateBurst, maxJsonDepth, List.of());
        }

        /** No rate limit and the default nesting depth (tests). */
        public IngestConfig(int maxEventBytes, long maxRequestBytes, Duration commitTimeout) {
            this(maxEventBytes, maxRequestBytes, commitTimeout, 0, 0, 200);
        }
    }

    public record QueueConfig(int capacity, long maxBytes) {}

    public record PersistConfig(int maxBatch, Duration maxRetryBackoff) {}

    /**
     * @param gapWait      how long a live gap in a job's counters is held before it is filled from the store
     * @param holeWait     how long a counter missing from the store (while later ones are there) is waited for
     * @param maxEventRate per job and subscriber, events per second sent live (AWX's MAX_WEBSOCKET_EVENT_RATE);
     *                     0 = no limit; the excess is delayed (read from the store at that rate), never dropped
     * @param limits       what a browser may send and open
     * @param sseHeartbeat how often an idle server-sent-events stream gets a comment line ({@code sse.heartbeat})
     */
    public record WsConfig(
            int outboxCapacity,
            Duration gapWait,
            Duration holeWait,
            int maxEventRate,
            WsLimits limits,
            OutboxBytes outboxBytes,
            Duration sseHeartbeat) {
        public static final Duration DEFAULT_SSE_HEARTBEAT = Duration.ofSeconds(15);

        /** With the default {@code sse.heartbeat}. */
        public WsConfig(
                int outboxCapacity,
                Duration gapWait,
                Duration holeWait,
                int maxEventRate,
                WsLimits limits,
                OutboxBytes outboxBytes) {
            this(outboxCapacity, gapWait, holeWait, maxEventRate, limits, outboxBytes, DEFAULT_SSE_HEARTBEAT);
        }

        /** The default waits, no event rate limit and {@link WsLimits#LENIENT} (tests and benchmarks). */
        public WsConfig(int outboxCapacity) {
            this(
                    outboxCapacity,
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(5),
                    0,
                    WsLimits.LENIENT,
                    OutboxBytes.DEFAULT);
        }
    }

    /**
     * Bytes of event messages held for websocket subscribers (queued, or handed to Jetty and not yet written).
     *
     * @param perConnection per connection ({@code ws.outbox-max-bytes})
     * @param perUser       over all of one user's connections ({@code ws.outbox-max-bytes-per-user})
     * @param total         over the node ({@code ws.outbox-max-bytes-total})
     */
    public record OutboxBytes(long perConnection, long perUser, long total) {
        public static final OutboxBytes DEFAULT = new OutboxBytes(16L << 20, 64L << 20, 256L << 20);
    }

    /**
     * Hostile-browser limits of the websocket.
     *
     * @param maxMessageBytes       largest incoming message (Jetty closes the connection with 1009 above it)
     * @param maxSubscriptions      groups per connection
     * @param maxConnectionsPerUser open connections per user id, 0 = no limit
     * @param maxMessageRate        incoming messages per second per connection, 0 = no limit
     * @param maxJsonDepth          deepest JSON nesting of an incoming message
     * @param idleTimeout           a connection on which nothing moves for this long (nothing read, writes stuck) is closed
     * @param maxSubscribesPerUser  subscribe messages per second per user over all its connections, 0 = no limit
     */
    public record WsLimits(
            int maxMessageBytes,
            int maxSubscriptions,
            int maxConnectionsPerUser,
            int maxMessageRate,
            int maxJsonDepth,
            Duration idleTimeout,
            int maxSubscribesPerUser,
            int maxRefusedMessages,
            Duration refusedBlock) {
        /** The window {@code ws.max-refused-messages} counts over. */
        public static final Duration REFUSED_WINDOW = Duration.ofSeconds(10);

        /** Limits no well-behaved test or benchmark client reaches: one user may open any number of connections. */
        public static final WsLimits LENIENT =
                new WsLimits(64 << 10, 1000, 0, 0, 16, Duration.ofSeconds(30), 0, 0, Duration.ZERO);
    }

    /**
     * {@code redisUrl} empty means a single node (in-process queue and broadcast).
     * {@code nodeName} is never empty once loaded. {@code waitAof}: ingest answers only after Redis' AOF fsync.
     */
    public record ClusterConfig(String redisUrl, String nodeName, Duration nodeTimeout, boolean waitAof) {
        public boolean enabled() {
            return !redisUrl.isEmpty();
        }
    }

    /**
     * Launching ansible-playbook: where playbooks live, how many run at once, how cancel escalates.
     *
     * @param maxRunningPerUser jobs one user runs at once (0 = maxRunning)
     * @param maxPendingPerUser jobs one user may have waiting for a slot
     * @param passEnv           names of the node's environment variables ansible-playbook gets beyond the fixed allow-list
     * @param maxLaunchesPerMinute launches one user may make in any minute (0 = no limit)
     * @param lostNodeTimeout   in a cluster, how long a node may have no heartbeat before others end its launched
     *                          jobs (zero = never)
     */
    public record JobsConfig(
            Path playbookDir,
            int maxRunning,
            int maxPending,
            Duration cancelGrace,
            String ansiblePlaybook,
            int maxRunningPerUser,
            int maxPendingPerUser,
            List<String> passEnv,
            int maxLaunchesPerMinute,
            int nice,
            Duration lostNodeTimeout) {
        /** {@code jobs.lost-node-timeout}'s default. */
        public static final Duration LOST_NODE_TIMEOUT = Duration.ofMinutes(5);

        public JobsConfig {
            passEnv = List.copyOf(passEnv);
        }

        /** No per-user share beyond the totals, no launch rate, no extra environment, the node's priority (tests). */
        public JobsConfig(
                Path playbookDir, int maxRunning, int maxPending, Duration cancelGrace, String ansiblePlaybook) {
            this(
                    playbookDir,
                    maxRunning,
                    maxPending,
                    cancelGrace,
                    ansiblePlaybook,
                    0,
                    maxPending,
                    List.of(),
                    0,
                    0,
                    LOST_NODE_TIMEOUT);
        }
    }

    /**
     * Users and logins.
     *
     * @param adminPassword    for the first start's {@code admin}; empty = random, printed once
     * @param basicCache       how long a verified Basic credential is remembered (zero = not at all)
     * @param adminsOnlyLaunch whether only superusers may launch playbooks
     */
    public record AuthConfig(
            String adminPassword,
            Duration sessionTimeout,
            Duration basicCache,
            boolean adminsOnlyLaunch,
            AuthLimits limits) {
        /** With {@link AuthLimits#DEFAULTS}. */
        public AuthConfig(
                String adminPassword, Duration sessionTimeout, Duration basicCache, boolean adminsOnlyLaunch) {
            this(adminPassword, sessionTimeout, basicCache, adminsOnlyLaunch, AuthLimits.DEFAULTS);
        }

        @Override
        public String toString() { // never print the password
            return "AuthConfig[adminPassword=" + (adminPassword.isEmpty() ? "" : "***") + ", sessionTimeout="
                    + sessionTimeout + ", basicCache=" + basicCache + ", adminsOnlyLaunch=" + adminsOnlyLaunch
                    + ", limits=" + limits + "]";
        }
    }

    /**
     * What one user or one client address may cost the node (issue 13): password guessing, tokens, jobs, partitions.
     *
     * @param failedLoginsPerAddress failed password checks per minute (and burst) per client address
     * @param failedLoginsPerUser    failed password checks per minute (and burst) per username
     * @param hashConcurrency        password hashes at once (0 = half the processors, at least 1)
     * @param hashWait               how long a check waits for a hashing slot before 503
     * @param maxTokensPerUser       tokens per user
     * @param maxNewJobsPerUser      token-allocated jobs without events per user
     * @param maxNewPartitions       new event partitions per minute (0 = no limit)
     * @param failedRequestsPerAddress requests with failed credentials per minute per client address (0 = no limit)
     * @param maxSessionsPerUser     login sessions per user; a login beyond it ends the user's oldest
     */
    public record AuthLimits(
            int failedLoginsPerAddress,
            int failedLoginsPerUser,
            int hashConcurrency,
            Duration hashWait,
            int maxTokensPerUser,
            int maxNewJobsPerUser,
            int maxNewPartitions,
            int failedRequestsPerAddress,
            int maxSessionsPerUser) {
        public static final AuthLimits DEFAULTS =
                new AuthLimits(20, 10, 0, Duration.ofSeconds(2), 100, 20, 60, 300, 100);

        /** The configured hashing slots, 0 resolved. */
        public int hashSlots() {
            return hashConcurrency > 0
                    ? hashConcurrency
                    : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        }
    }

    /**
     * How long finished jobs keep their events and their rows (SPEC §10).
     *
     * @param events    events of jobs finished longer ago are deleted (the row stays); zero = keep forever
     * @param jobs      whole jobs finished longer ago are deleted; zero = keep forever
     * @param interval  how often a node applies them
     * @param batchSize events deleted per transaction where a whole partition cannot go
     */
    public record RetentionConfig(Duration events, Duration jobs, Duration interval, int batchSize) {
        public boolean enabled() {
            return !events.isZero() || !jobs.isZero();
        }
    }

    /** The embedded single-node defaults, as with no flags and no environment. */
    public static Config defaults() {
        return ConfigLoader.load(java.util.Map.of(), java.util.Map.of());
    }
}
