package io.jobstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 17: retention settings, their environment variables, and absurd periods refused with a clear message. */
class RetentionConfigTest {
    @Test
    void retention_keeps_forever_by_default() {
        Config.RetentionConfig r = Config.defaults().retention();
        assertThat(r.events()).isZero();
        assertThat(r.jobs()).isZero();
        assertThat(r.enabled()).isFalse();
        assertThat(r.interval()).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void periods_come_from_flags_or_the_environment_in_days_or_hours() {
        Config c = ConfigLoader.load(
                Map.of("JOBSTREAM_RETENTION_EVENTS", "30d", "JOBSTREAM_RETENTION_INTERVAL", "1h"),
                Map.of("retention-jobs", "8760h"));
        assertThat(c.retention().events()).isEqualTo(Duration.ofDays(30));
        assertThat(c.retention().jobs()).isEqualTo(Duration.ofDays(365));
        assertThat(c.retention().interval()).isEqualTo(Duration.ofHours(1));
        assertThat(c.retention().enabled()).isTrue();
    }

    @Test
    void absurd_periods_are_refused_with_the_key_the_value_and_what_is_allowed() {
        for (String bad : new String[] {"-1d", "36501d", "99999999999999999999d", "5s", "forever", "1y", "30"}) {
            assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("retention-events", bad)))
                    .as(bad)
                    .isInstanceOfSatisfying(
                            ConfigException.class,
                            e -> assertThat(e.problems())
                                    .singleElement()
                                    .asString()
                                    .startsWith("retention-events must be 0 (keep forever)")
                                    .contains("36500d")
                                    .contains("was '" + bad + "'")
                                    .contains("env JOBSTREAM_RETENTION_EVENTS"));
        }
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("retention.interval", "0s")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("retention.interval must be from 1000ms to 24h");
    }
}
