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
        assertThat(parse("{\"playbook\": \"p.yml\", \"extra_vars\": \"{\\\"n\\\": 2}\"}")
                        .extraVars())
                .isEqualTo("{\"n\":2}");
        assertThat(parse("{\"playbook\": \"p.yml\", \"extra_vars\": \"\"}").extraVars())
                .isEqualTo("{}");
    }

    @Test
    void malformed_bodies_unknown_fields_and_wrong_types_are_refused() {
        for (String body : new String[] {
            "not json",
            "[1]",
            "{\"playbook\": 3}",
            "{\"playbook\": \"p\", \"x\": 1}",
            "{\"playbook\": \"p\", \"extra_vars\": [1]}",
            "{\"playbook\": \"p\", \"extra_vars\": \"a: 1\"}",
            "{\"playbook\": \"p\", \"verbosity\": 6}",
            "{\"playbook\": \"p\", \"verbosity\": \"2\"}"
        }) {
            assertThatThrownBy(() -> parse(body))
                    .as(body)
                    .isInstanceOfSatisfying(
                            LaunchException.class, e -> assertThat(e.status).isEqualTo(400));
        }
    }

    @Test
    void every_field_has_a_size_limit() {
        for (String body : new String[] {
            "{\"playbook\": \"p\", \"name\": \"" + "n".repeat(LaunchFields.MAX_NAME + 1) + "\"}",
            "{\"playbook\": \"" + "p".repeat(LaunchFields.MAX_PATH + 1) + "\"}",
            "{\"playbook\": \"p\", \"inventory\": \"" + "i".repeat(LaunchFields.MAX_PATH + 1) + "\"}",
            "{\"playbook\": \"p\", \"limit\": \"" + "l".repeat(LaunchFields.MAX_LIMIT + 1) + "\"}",
            "{\"playbook\": \"p\", \"extra_vars\": {\"a\": \"" + "v".repeat(LaunchFields.MAX_EXTRA_VARS_BYTES) + "\"}}",
            "{\"playbook\": \"p\", \"extra_vars\": {\"a\": " + "[".repeat(LaunchFields.MAX_EXTRA_VARS_DEPTH)
                    + "]".repeat(LaunchFields.MAX_EXTRA_VARS_DEPTH) + "}}"
        }) {
            assertThatThrownBy(() -> parse(body))
                    .as(body.substring(0, 60))
                    .isInstanceOfSatisfying(
                            LaunchException.class, e -> assertThat(e.status).isEqualTo(400));
        }
        var atLimits = parse("{\"playbook\": \"p\", \"name\": \"" + "n".repeat(LaunchFields.MAX_NAME) + "\", "
                + "\"extra_vars\": {\"a\": " + "[".repeat(LaunchFields.MAX_EXTRA_VARS_DEPTH - 1)
                + "]".repeat(LaunchFields.MAX_EXTRA_VARS_DEPTH - 1) + "}}");
        assertThat(atLimits.name()).hasSize(LaunchFields.MAX_NAME);
    }

    @Test
    void values_that_would_be_more_than_data_to_ansible_are_refused_with_the_reason() {
        String[][] cases = {
            {"{\"playbook\": \"p\", \"limit\": \"@/etc/shadow\"}", "'@'"},
            {"{\"playbook\": \"p\", \"limit\": \"web,@hosts.txt\"}", "'@'"},
            {"{\"playbook\": \"p\", \"limit\": \"we\\u0000b\"}", "control"},
            {"{\"playbook\": \"p\", \"name\": \"a\\nb\"}", "control"},
            {"{\"playbook\": \"p\", \"name\": \"a\\ud800\"}", "Unicode"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"ansible_python_interpreter\": \"sh\"}}", "reserved"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"Ansible_Become_Exe\": \"sh\"}}", "reserved"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"_ansible_check_mode\": true}}", "reserved"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"hostvars\": 1}}", "reserved"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"{{ x }}\": 1}}", "variable name"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"a\": Infinity}}", "finite"},
            {"{\"playbook\": \"p\", \"extra_vars\": {\"a\": {\"\\udc00\": 1}}}", "Unicode"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> parse(c[0])).as(c[0]).isInstanceOfSatisfying(LaunchException.class, e -> {
                assertThat(e.status).isEqualTo(400);
                // Jackson itself refuses some broken UTF-16 (in names) as malformed JSON: refused either way
                if (c[1].equals("Unicode")) assertThat(e.getMessage()).containsAnyOf("Unicode", "malformed JSON");
                else assertThat(e.getMessage()).contains(c[1]);
            });
        }
        // nested names are data: anything goes there, including templates and ansible_ names
        assertThat(parse("{\"playbook\": \"p\", \"extra_vars\": {\"d\": {\"{{ x }}\": 1, \"ansible_host\": 2}}}")
                        .extraVars())
                .contains("ansible_host");
    }
}
