package io.jobstream.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The whole, validated configuration of one node. Built by {@link ConfigLoader}; immutable. */
public record Config(
        HttpConfig http, DatabaseConfig database, IngestConfig ingest, QueueConfig queue,
        PersistConfig persist, WsConfig ws, ClusterConfig cluster, boolean demo,
        JobsConfig jobs) {

    /**
     * @param idleTimeout    a connection that sends nothing for this long is closed
     * @param minRequestRate bytes per second below which a request body upload is cut off (0 = none)
     */
    public record HttpConfig(String host, int port, TlsConfig tls, Duration idleTimeout, long minRequestRate) {}

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

    /** {@code url} empty means embedded PostgreSQL with its data under {@code dataDir}. */
    public record DatabaseConfig(String url, Path dataDir, int poolSize) {
        public boolean embedded() {
            return url.isEmpty();
        }
    }

    public record IngestConfig(int maxEventBytes, long maxRequestBytes, Duration commitTimeout) {}

    public record QueueConfig(int capacity, long maxBytes) {}

    public record PersistConfig(int maxBatch, Duration maxRetryBackoff) {}

    public record WsConfig(int outboxCapacity) {}

    /**
     * {@code redisUrl} empty means a single node (in-process queue and broadcast).
     * {@code nodeName} is never empty once loaded.
     */
    public record ClusterConfig(String redisUrl, String nodeName, Duration nodeTimeout) {
        public boolean enabled() {
            return !redisUrl.isEmpty();
        }
    }

    /** Launching ansible-playbook: where playbooks live, how many run at once, how cancel escalates. */
    public record JobsConfig(Path playbookDir, int maxRunning, int maxPending, Duration cancelGrace,
                             String ansiblePlaybook) {}

    /** The embedded single-node defaults, as with no flags and no environment. */
    public static Config defaults() {
        return ConfigLoader.load(java.util.Map.of(), java.util.Map.of());
    }
}
