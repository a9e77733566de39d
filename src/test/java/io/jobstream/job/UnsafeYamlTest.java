package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import org.junit.jupiter.api.Test;

/** The YAML shape; LaunchInjectionIT proves with real ansible-playbook that what it writes arrives unchanged. */
class UnsafeYamlTest {
    private static JsonNode json(String s) throws Exception {
        return Json.MAPPER.readTree(s);
    }

    @Test
    void every_string_key_or_value_at_any_depth_is_tagged_unsafe_and_double_quoted() throws Exception {
        String yaml = UnsafeYaml.write(
                json(
                        "{\"a\": \"{{ x }}\", \"l\": [1, \"{% y %}\", {\"{{ k }}\": [\"z\"]}], \"e\": {}, \"n\": null, \"t\": true}"));
        assertThat(yaml)
                .isEqualTo(
                        "---\n{!unsafe \"a\": !unsafe \"{{ x }}\", !unsafe \"l\": [1, !unsafe \"{% y %}\","
                                + " {!unsafe \"{{ k }}\": [!unsafe \"z\"]}], !unsafe \"e\": {}, !unsafe \"n\": null, !unsafe \"t\": true}\n");
    }

    @Test
    void only_printable_ascii_is_written_as_it_is_everything_else_is_escaped() {
        StringBuilder out = new StringBuilder();
        UnsafeYaml.string("\"\\\n\r\t\u0000\u0007\u007f\u0085é\u2028\uFEFF😀 &a *a !!python/object #c", out);
        assertThat(out.toString())
                .isEqualTo("!unsafe \"\\\"\\\\\\n\\r\\t\\0\\x07\\x7F\\x85\\xE9\\u2028\\uFEFF\\U0001F600"
                        + " &a *a !!python/object #c\"");
        assertThat(out.chars()).allMatch(c -> c >= 0x20 && c < 0x7f);
    }

    @Test
    void numbers_are_written_so_yaml_1_1_reads_the_same_number() throws Exception {
        assertThat(UnsafeYaml.number(json("-42"))).isEqualTo("-42");
        assertThat(UnsafeYaml.number(json("123456789012345678901234567890")))
                .isEqualTo("123456789012345678901234567890");
        assertThat(UnsafeYaml.number(json("1.5"))).isEqualTo("1.5");
        assertThat(UnsafeYaml.number(json("1e10"))).isEqualTo("1.0e+10"); // "1.0E10" would be a string to PyYAML
        assertThat(UnsafeYaml.number(json("-2.5e-7"))).isEqualTo("-2.5e-7");
    }

    @Test
    void a_lone_surrogate_is_a_bug_upstream_and_refused() {
        assertThatThrownBy(() -> UnsafeYaml.string("a\ud800b", new StringBuilder()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
