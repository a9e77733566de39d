package io.jobstream.config;

import java.nio.file.Path;
import java.time.Duration;

/** The whole, validated configuration of one node. Built by {@link ConfigLoader}; immutable. */
public record Config(
        HttpConfig http, DatabaseConfig database, IngestConfig ingest, QueueConfig queue,
        PersistConfig persist, WsConfig ws, boolean demo, JobsConfig jobs) {

    public record HttpConfig(String host, int port) {}

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

    /** Launching ansible-playbook: where playbooks live, how many run at once, how cancel escalates. */
    public record JobsConfig(Path playbookDir, int maxRunning, int maxPending, Duration cancelGrace,
                             String ansiblePlaybook) {}

    /** The embedded single-node defaults, as with no flags and no environment. */
    public static Config defaults() {
        return ConfigLoader.load(java.util.Map.of(), java.util.Map.of());
    }
}
