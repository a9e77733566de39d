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
        Config c = ConfigLoader.load(Map.of("JOBSTREAM_PORT", "9000", "JOBSTREAM_QUEUE_CAPACITY", "50"),
                Map.of("port", "9100", "ingest.max-event-size", "512KiB", "demo", "true"));
        assertThat(c.http().port()).isEqualTo(9100);
        assertThat(c.queue().capacity()).isEqualTo(50);
        assertThat(c.ingest().maxEventBytes()).isEqualTo(512 * 1024);
        assertThat(c.demo()).isTrue();
    }

    @Test
    void every_bad_value_is_reported_at_once_with_its_key_and_value() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("port", "http", "queue.capacity", "0",
                "ingest.commit-timeout", "soon", "database-url", "mysql://x")))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "port must be a number, was 'http' (flag --port, env JOBSTREAM_PORT)",
                        "queue.capacity must be from 1 to 10000000, was '0' (flag --queue-capacity, env JOBSTREAM_QUEUE_CAPACITY)",
                        "ingest.commit-timeout must be a duration such as 500ms, 30s, 5m or 1h, was 'soon'"
                                + " (flag --ingest-commit-timeout, env JOBSTREAM_INGEST_COMMIT_TIMEOUT)",
                        "database-url must start with postgresql://, was mysql://x"));
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
