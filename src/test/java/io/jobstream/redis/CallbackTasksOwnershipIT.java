package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

/**
 * Issue 12 item 2 on the Redis path: an AWX-style emitter pushing onto {@code callback_tasks} is a trusted writer
 * (it may create jobs at its own ids) held to the same rule as HTTP ingest: it never writes into a job a user owns.
 * A real node in cluster mode on a real redis-server.
 */
class CallbackTasksOwnershipIT {
    @TempDir
    Path dir;

    @Test
    void an_awx_emitter_creates_its_own_jobs_but_never_writes_into_a_users_job() {
        try (RedisServer redisServer = RedisServer.start(dir.resolve("redis"), true);
                RunningServer node = RunningServer.start(dir.resolve("node"), Map.of("redis-url", redisServer.url()));
                RedisClient redis = RedisKeys.connect(redisServer.url(), 2)) {
            assertThat(Http.postJson(
                                    node.uri("/api/v2/users/"),
                                    "{\"username\":\"ivy\",\"password\":\"ivy-pw\"}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
            String ivy = TestUsers.basic("ivy", "ivy-pw");
            long ivys = Http.json(Http.postJson(node.uri("/api/v2/tokens/"), "{\"kind\":\"ingest\"}", ivy)
                            .body())
                    .get("job")
                    .asLong();

            redis.rpush(RedisKeys.CALLBACK_TASKS, Events.event(ivys, 1), Events.event(55_555, 1));
            await().atMost(Duration.ofSeconds(20))
                    .ignoreExceptions()
                    .until(() -> Http.getJson(node.uri("/api/v2/jobs/55555/"))
                                    .path("stored_events")
                                    .asInt()
                            == 1);
            await().atMost(Duration.ofSeconds(5)).until(() -> redis.xlen(RedisKeys.DEAD) == 1);
            assertThat(redis.xrange(RedisKeys.DEAD, (StreamEntryID) null, null)
                            .get(0)
                            .getFields()
                            .get("reason"))
                    .contains("not allowed to write events of job " + ivys);
            assertThat(Http.getJson(node.uri("/api/v2/jobs/" + ivys + "/job_events/"))
                            .path("count")
                            .asInt())
                    .isZero();
            assertThat(Http.get(node.uri("/api/v2/jobs/55555/"), ivy).statusCode())
                    .as("the emitter's job")
                    .isEqualTo(403);
        }
    }
}
