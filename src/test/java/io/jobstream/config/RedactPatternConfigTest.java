package io.jobstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RedactPatternConfigTest {
    @Test
    void the_environment_holds_one_pattern_per_line_and_blank_lines_are_ignored() {
        Config c =
                ConfigLoader.load(Map.of("JOBSTREAM_REDACT_PATTERNS", "hunter\\d\r\n\n (?i)password=\\S+\n"), Map.of());
        assertThat(c.ingest().redactPatterns())
                .extracting(Pattern::pattern)
                .containsExactly("hunter\\d", " (?i)password=\\S+"); // a pattern's own spaces are kept
    }

    @Test
    void none_by_default() {
        assertThat(Config.defaults().ingest().redactPatterns()).isEmpty();
        assertThat(Settings.REDACT_PATTERN.env()).isEqualTo("JOBSTREAM_REDACT_PATTERNS");
        assertThat(Settings.REDACT_PATTERN.flag()).isEqualTo("--redact-pattern");
    }

    @Test
    void an_invalid_pattern_or_one_matching_nothing_stops_startup_without_quoting_it() {
        assertThatThrownBy(() -> ConfigLoader.load(Map.of(), Map.of("redact-pattern", "ok\nsecret(unclosed\nx*")))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.problems())
                            .anySatisfy(p -> assertThat(p)
                                    .startsWith("redact-pattern #2 (flag --redact-pattern, env"
                                            + " JOBSTREAM_REDACT_PATTERNS) is not a valid regular expression"))
                            .anySatisfy(p -> assertThat(p).contains("#3").contains("must not match the empty string"))
                            .noneSatisfy(p -> assertThat(p).contains("secret"));
                });
    }
}
