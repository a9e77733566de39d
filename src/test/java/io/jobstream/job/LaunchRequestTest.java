package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LaunchRequestTest {
    private static LaunchRequest parse(String json) {
        return LaunchRequest.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void every_field_is_read_and_missing_ones_are_empty() {
        var r = parse("{\"playbook\": \"site.yml\", \"inventory\": \"hosts\", \"extra_vars\": {\"a\": 1},"
                + " \"limit\": \"web\", \"name\": \"deploy\", \"verbosity\": 2}");
        assertThat(r).isEqualTo(new LaunchRequest("site.yml", "hosts", "{\"a\":1}", "web", "deploy", 2));
        assertThat(parse("{\"playbook\": \"site.yml\"}")).isEqualTo(new LaunchRequest("site.yml", "", "{}", "", "", 0));
    }

    @Test
    void extra_vars_may_be_a_string_holding_a_json_object_as_awx_accepts() {
        assertThat(parse("{\"playbook\": \"p.yml\", \"extra_vars\": \"{\\\"n\\\": 2}\"}").extraVars()).isEqualTo("{\"n\":2}");
        assertThat(parse("{\"playbook\": \"p.yml\", \"extra_vars\": \"\"}").extraVars()).isEqualTo("{}");
    }

    @Test
    void malformed_bodies_unknown_fields_and_wrong_types_are_refused() {
        for (String body : new String[] {"not json", "[1]", "{\"playbook\": 3}", "{\"playbook\": \"p\", \"x\": 1}",
                "{\"playbook\": \"p\", \"extra_vars\": [1]}", "{\"playbook\": \"p\", \"extra_vars\": \"a: 1\"}", "{\"playbook\": \"p\", \"verbosity\": 6}",
                "{\"playbook\": \"p\", \"verbosity\": \"2\"}"}) {
            assertThatThrownBy(() -> parse(body)).as(body).isInstanceOfSatisfying(LaunchException.class,
                    e -> assertThat(e.status).isEqualTo(400));
        }
    }
}
