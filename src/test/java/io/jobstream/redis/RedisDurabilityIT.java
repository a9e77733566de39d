package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.event.JobEof;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.Receipt;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12.10: what an ingest 2xx is worth, read from a real Debian redis-server started with each persistence
 * setting, including one whose CONFIG command is renamed away (as managed Redis services do).
 */
class RedisDurabilityIT {
    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void issue_12_fsync_always_is_reported_as_committed_to_disk() {
        assertThat(ackWith(List.of("--appendonly", "yes", "--appendfsync", "always")))
                .isEqualTo(RedisDurability.Ack.FSYNC_ALWAYS);
        assertThat(gauge()).isEqualTo(3);
    }

    @Test
    void issue_12_fsync_everysec_is_reported_as_fsynced_within_a_second() {
        assertThat(ackWith(List.of("--appendonly", "yes", "--appendfsync", "everysec")))
                .isEqualTo(RedisDurability.Ack.FSYNC_EVERYSEC);
        assertThat(gauge()).isEqualTo(2);
    }

    @Test
    void issue_12_appendfsync_no_is_reported_as_left_to_the_os() {
        assertThat(ackWith(List.of("--appendonly", "yes", "--appendfsync", "no")))
                .isEqualTo(RedisDurability.Ack.FSYNC_BY_OS);
        assertThat(gauge()).isEqualTo(1);
    }

    @Test
    void issue_12_no_aof_is_reported_as_memory_only() {
        assertThat(ackWith(List.of("--appendonly", "no"))).isEqualTo(RedisDurability.Ack.MEMORY_ONLY);
        assertThat(gauge()).isZero();
    }

    @Test
    void issue_12_with_config_renamed_away_the_aof_is_still_found_through_info() {
        assertThat(ackWith(List.of("--appendonly", "yes", "--rename-command", "CONFIG", "hidden-config-it")))
                .isEqualTo(RedisDurability.Ack.AOF_FSYNC_UNKNOWN);
        assertThat(ackWith(List.of("--appendonly", "no", "--rename-command", "CONFIG", "hidden-config-it")))
                .isEqualTo(RedisDurability.Ack.MEMORY_ONLY);
    }

    @Test
    void issue_12_wait_aof_is_refused_where_redis_cannot_do_it_and_acknowledges_after_fsync_where_it_can() {
        try (RedisServer server = RedisServer.start(
                        dir.resolve("aof"), List.of("--appendonly", "yes", "--appendfsync", "everysec"));
                RedisConnection redis = RedisConnection.open(server.url(), 4)) {
            String version = redis.client()
                    .info("server")
                    .lines()
                    .filter(l -> l.startsWith("redis_version:"))
                    .findFirst()
                    .orElseThrow()
                    .substring("redis_version:".length())
                    .trim();
            RedisDurability durability = new RedisDurability(redis, true, registry);
            if (!RedisDurability.atLeast(version, 7, 2)) { // Debian 12's 7.0 has no WAITAOF
                assertThatThrownBy(durability::check)
                        .hasMessageContaining("redis.wait-aof needs Redis >= 7.2")
                        .hasMessageContaining(version);
                return;
            }
            assertThat(durability.check()).isEqualTo(RedisDurability.Ack.WAITAOF);
            RedisEventQueue queue = new RedisEventQueue(redis, "it", 1000, n -> true, true, registry);
            boolean[] stored = {false};
            Receipt receipt = new Receipt() {
                @Override
                public void stored() {
                    stored[0] = true;
                }

                @Override
                public void duplicate() {}

                @Override
                public void failed(String reason) {}
            };
            assertThat(queue.offerAll(List.of(new Envelope(new JobEof(1, 1), receipt))))
                    .isTrue();
            assertThat(stored[0]).as("acknowledged after WAITAOF").isTrue();
        }
        try (RedisServer server = RedisServer.start(dir.resolve("memory"), List.of("--appendonly", "no"));
                RedisConnection redis = RedisConnection.open(server.url(), 4)) {
            assertThatThrownBy(() -> new RedisDurability(redis, true, registry).check())
                    .hasMessageContaining("appendonly no");
        }
    }

    @Test
    void stats_say_in_words_what_an_acknowledgement_is_worth() {
        try (RedisServer server = RedisServer.start(
                        dir.resolve("stats"), List.of("--appendonly", "yes", "--appendfsync", "everysec"));
                RedisConnection redis = RedisConnection.open(server.url(), 4)) {
            RedisDurability durability = new RedisDurability(redis, false, registry);
            durability.check();
            Map<String, Object> described = durability.describe();
            assertThat(described)
                    .containsEntry("level", "fsync_everysec")
                    .containsEntry("appendfsync", "everysec")
                    .containsEntry("wait_aof", false);
            assertThat(String.valueOf(described.get("means"))).contains("fsync'd within 1 s");
        }
    }

    private RedisDurability.Ack ackWith(List<String> options) {
        try (RedisServer server = RedisServer.start(dir.resolve("r" + options.hashCode()), options);
                RedisConnection redis = RedisConnection.open(server.url(), 4)) {
            return new RedisDurability(redis, false, registry).check();
        }
    }

    private double gauge() {
        return registry.get(Metrics.REDIS_ACK_DURABILITY).gauge().value();
    }
}
