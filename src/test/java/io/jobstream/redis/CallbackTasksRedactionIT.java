package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.DebianPostgres;
import io.jobstream.testing.Http;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.RunningServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * Redaction on the AWX way in (SPEC §10): an event RPUSHed onto {@code callback_tasks} in cluster mode is decoded by
 * the same decoder as HTTP ingest, so its secret is masked before it is stored. Real Redis and PostgreSQL.
 */
class CallbackTasksRedactionIT {
    @TempDir
    Path dir;

    @Test
    void a_secret_in_an_event_pushed_onto_callback_tasks_is_masked_before_it_is_stored() throws Exception {
        try (RedisServer redisServer = RedisServer.start(dir.resolve("redis"), true);
                DebianPostgres postgres = DebianPostgres.start(Path.of("/tmp")
                        .resolve(
                                "jobstream-redact-pg-" + ProcessHandle.current().pid()));
                RedisClient redis = RedisKeys.connect(redisServer.url(), 2);
                RunningServer node = RunningServer.start(
                        dir.resolve("node"),
                        Map.of(
                                "database-url", postgres.url(),
                                "redis-url", redisServer.url(),
                                "redact-pattern", "s3cr3t-[0-9]+"))) {
            long job = 9301;
            redis.rpush(
                    RedisKeys.CALLBACK_TASKS,
                    "{\"job_id\":" + job + ",\"counter\":1,\"event\":\"runner_on_ok\",\"uuid\":\"a\","
                            + "\"stdout\":\"token s3cr3t-42\",\"event_data\":{\"host\":\"h\","
                            + "\"res\":{\"msg\":\"s3cr3t-42\"}}}");
            await().atMost(Duration.ofSeconds(60))
                    .ignoreExceptions()
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/" + job + "/job_events/"))
                                    .path("count")
                                    .asInt()
                            == 1);
            JsonNode e = Http.getJson(node.uri("/api/v2/jobs/" + job + "/job_events/"))
                    .path("results")
                    .get(0);
            assertThat(e.path("stdout").asText()).isEqualTo("token ********");
            assertThat(e.path("event_data").path("res").path("msg").asText()).isEqualTo("********");
        }
    }
}
