package io.jobstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    @Test
    void defaults_give_an_embedded_single_node_on_port_8052() {
        Config c = Config.defaults();
        assertThat(c.http().host()).isEqualTo("127.0.0.1");
        assertThat(c.http().port()).isEqualTo(8052);
        assertThat(c.database().embedded()).isTrue();
        assertThat(c.queue().capacity()).isEqualTo(100_000);
        assertThat(c.ingest().maxEventBytes()).isEqualTo(2 << 20);
        assertThat(c.ingest().commitTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.ws().outboxCapacity()).isEqualTo(10_000);
        assertThat(c.demo()).isFalse();
    }

    @Test
    void flags_win_over_environment_which_wins_over_defaults() {
        Config c = ConfigLoader.load(
                Map.of("JOBSTREAM_PORT", "9000", "JOBSTREAM_QUEUE_CAPACITY", "50"),
                Map.of("port", "9100", "ingest.max-event-size", "512KiB", "demo", "true"));
        assertThat(c.http().port()).isEqualTo(9100);
        assertThat(c.queue().capacity()).isEqualTo(50);
        assertThat(c.ingest().maxEventBytes()).isEqualTo(512 * 1024);
        assertThat(c.demo()).isTrue();
    }

    @Test
    void every_bad_value_is_reported_at_once_with_its_key_and_value() {
        assertThatThrownBy(() -> ConfigLoader.load(
                        Map.of(),
                        Map.of(
                                "port",
                                "http",
                                "queue.capacity",
                                "0",
                                "ingest.commit-timeout",
                                "soon",
                                "database-url",
                                "mysql://x")))
                .isInstanceOfSatisfying(
                        ConfigException.class,
                        e -> assertThat(e.problems())
                                .containsExactlyInAnyOrder(
                                        "port must be a number, was 'http' (flag --port, env JOBSTREAM_PORT)",
                                        "queue.capacity must be from 1 to 10000000, was '0' (flag --queue-capacity, env JOBSTREAM_QUEUE_CAPACITY)",
                                        "ingest.commit-timeout must be a duration such as 500ms, 30s, 5m, 1h or 7d, was 'soon'"
                                                + " (flag --ingest-commit-timeout, env JOBSTREAM_INGEST_COMMIT_TIMEOUT)",
                                        "database-url must start with postgresql://, was mysql://x"));
    }

    @Test
    void a_bad_url_is_reported_without_its_password() {
        assertThatThrownBy(() -> ConfigLoader.load(
                        Map.of(),
                        Map.of(
                                "database-url",
                                "postgress://app:s3cr%40t@db:5432/x",
                                "redis-url",
                                "redis://:hunter2@cache:6379/0/extra")))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.getMessage()).doesNotContain("s3cr").doesNotContain("hunter2");
                    assertThat(e.problems())
                            .contains("database-url must start with postgresql://, was postgress://app:***@db:5432/x");
                });
    }

    @Test
    void the_limits_load_from_their_settings() {
        Config c = ConfigLoader.load(
                Map.of("JOBSTREAM_INGEST_MAX_RATE", "500"),
                Map.of(
                        "ws.max-message-size",
                        "16KiB",
                        "ws.max-connections-per-user",
                        "0",
                        "ingest.max-json-depth",
                        "64"));
        assertThat(c.ingest().maxRate()).isEqualTo(500);
        assertThat(c.ingest().maxJsonDepth()).isEqualTo(64);
        assertThat(c.ws().limits().maxMessageBytes()).isEqualTo(16 * 1024);
        assertThat(c.ws().limits().maxConnectionsPerUser()).isZero();
        assertThat(Config.defaults().ws().limits().maxSubscriptions()).isEqualTo(100);
        assertThat(Config.defaults().ingest().maxRate()).as("off by default").isZero();
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("ingest.max-json-depth", "2")))
                .hasMessageContaining("ingest.max-json-depth must be from 4 to 1000");
    }

    @Test
    void launched_jobs_run_at_nice_10_unless_set_from_0_to_19() {
        assertThat(Config.defaults().jobs().nice()).isEqualTo(10);
        assertThat(ConfigLoader.load(Map.of("JOBSTREAM_JOBS_NICE", "0"), Map.of())
                        .jobs()
                        .nice())
                .isZero();
        assertThat(ConfigLoader.load(Map.of(), Map.of("jobs.nice", "19")).jobs().nice())
                .isEqualTo(19);
        // below 0 would need privileges the node should not have; above 19 the kernel has nothing
        for (String absurd : new String[] {"-5", "20", "99999999999", "ten", "1.5", ""}) {
            assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("jobs.nice", absurd)))
                    .as(absurd)
                    .hasMessageContaining("jobs.nice must be")
                    .hasMessageContaining("(flag --jobs-nice, env JOBSTREAM_JOBS_NICE)");
        }
    }

    @Test
    void every_setting_has_a_documented_default_that_loads() {
        for (Setting s : Settings.ALL) {
            assertThat(s.doc()).as(s.key()).isNotBlank();
            assertThat(s.env()).startsWith("JOBSTREAM_");
        }
        assertThat(Config.defaults()).isNotNull();
    }
}
