package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.javalin.Javalin;
import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.HealthCheck;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.testing.Http;
import io.jobstream.testing.LogCapture;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code /api/v2/health/} aggregates the components' checks into the same body it always had. */
class HealthEndpointTest {
    private final AtomicReference<CheckResult> database = new AtomicReference<>(CheckResult.OK);
    private final MemoryEventQueue queue = new MemoryEventQueue(10, 1 << 20);
    private Javalin http;

    private URI start(Map<String, HealthCheck> checks) {
        HealthEndpoint health = new HealthEndpoint(checks, queue::depth);
        http = Javalin.create(cfg -> health.register(cfg.routes)).start("127.0.0.1", 0);
        return URI.create("http://127.0.0.1:" + http.port() + "/api/v2/health/");
    }

    private Map<String, HealthCheck> embedded() {
        Map<String, HealthCheck> checks = new LinkedHashMap<>();
        checks.put("database", database::get);
        checks.put("receiver", () -> CheckResult.OK);
        checks.put("queue", queue::check);
        return checks;
    }

    @AfterEach
    void stop() {
        if (http != null) http.stop();
    }

    @Test
    void all_components_ok_answer_200_with_each_state_in_order_and_the_queue_depth() {
        HttpResponse<String> r = Http.get(start(embedded()));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body())
                .isEqualTo(
                        "{\"status\":\"ok\",\"checks\":{\"database\":\"ok\",\"receiver\":\"ok\",\"queue\":\"ok\"},\"queue_depth\":0}");
    }

    @Test
    void one_failed_check_answers_503_with_its_state_word_and_logs_its_detail_once() {
        URI uri = start(embedded());
        database.set(CheckResult.failed("unreachable", "host db.internal:5432 refused user secret"));
        try (LogCapture log = new LogCapture()) {
            HttpResponse<String> first = Http.get(uri);
            Http.get(uri);

            assertThat(first.statusCode()).isEqualTo(503);
            assertThat(Http.json(first.body()).path("status").asText()).isEqualTo("unavailable");
            assertThat(Http.json(first.body()).path("checks").path("database").asText())
                    .isEqualTo("unreachable");
            assertThat(first.body()).doesNotContain("db.internal").doesNotContain("secret");
            assertThat(log.lines()).filteredOn(l -> l.contains("db.internal")).hasSize(1);
        }
    }
}
