package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.awaitDone;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A launching user attacks the node through the launch fields (issue 12.1, 13.5), against real ansible-playbook: what
 * they pass is data at any depth, never templated, never a file, never an option or an Ansible setting, and bounded.
 */
class LaunchInjectionIT {
    @TempDir
    static Path dataDir;

    @TempDir
    static Path playbookDir;
    /** Where the payloads would leave their marker files, and where show.yml writes what it received. */
    @TempDir
    static Path out;

    static RunningServer node;

    @BeforeAll
    static void start() throws Exception {
        Files.copy(AnsibleJobs.PLAYBOOKS.resolve("inventory.ini"), playbookDir.resolve("inventory.ini"));
        Files.copy(AnsibleJobs.PLAYBOOKS.resolve("slow.yml"), playbookDir.resolve("slow.yml"));
        // prints what it got and writes it as JSON, to compare with what was sent
        Files.writeString(playbookDir.resolve("show.yml"), """
                - name: Show what a launch passed
                  hosts: local
                  connection: local
                  gather_facts: false
                  tasks:
                    - name: Show
                      ansible.builtin.debug:
                        msg: "{{ payload }}"
                    - name: Keep
                      ansible.builtin.copy:
                        content: "{{ payload | to_json }}"
                        dest: "OUT/received-{{ tag }}.json"
                """.replace("OUT", out.toString()));
        // a helper script a playbook might ship: chosen as an inventory, Ansible would run it
        Path script = playbookDir.resolve("helper.sh");
        Files.writeString(script, "#!/bin/sh\ntouch " + out.resolve("script-ran") + "\necho '{}'\n");
        script.toFile().setExecutable(true);
        node = RunningServer.start(dataDir, Map.of("playbook-dir", playbookDir.toString()));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    private static HttpResponse<String> post(String body) {
        return Http.postJson(node.uri("/api/v2/jobs/"), body, TestUsers.ADMIN_AUTH);
    }

    private static JsonNode run(String body) {
        HttpResponse<String> r = post(body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return awaitDone(node, Http.json(r.body()).path("id").asLong(), Duration.ofSeconds(120));
    }

    private static String touch(String name) {
        return "{{ lookup('pipe', 'touch " + out.resolve(name) + "; echo 1') }}";
    }

    @Test
    void templates_in_extra_vars_are_text_at_every_depth_and_in_keys_and_never_run() throws Exception {
        ObjectNode vars = Json.MAPPER.createObjectNode().put("tag", "payload");
        ObjectNode payload = vars.putObject("payload");
        payload.put("value", touch("value"));
        payload.putArray("list").add(1).add(touch("list")).addArray().add(touch("list-in-list"));
        payload.putObject("dict")
                .put("inner", touch("dict-value"))
                .put(touch("dict-key"), "v")
                .putObject("deeper")
                .put(touch("deeper-key"), touch("deeper-value"));
        vars.put("unused", touch("top-level"));
        JsonNode job = run("{\"playbook\": \"show.yml\", \"extra_vars\": " + vars + "}");

        assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("successful");
        for (String marker : List.of(
                "value", "list", "list-in-list", "dict-value", "dict-key", "deeper-key", "deeper-value", "top-level")) {
            assertThat(out.resolve(marker))
                    .as("the payload in " + marker + " ran")
                    .doesNotExist();
        }
        String printed = Files.readString(node.jobOutput(job.path("id").asLong()));
        assertThat(printed).contains("{{ lookup('pipe', 'touch " + out.resolve("value"));
        assertThat(Json.MAPPER.readTree(out.resolve("received-payload.json").toFile()))
                .isEqualTo(payload);
    }

    @Test
    void the_issue_payload_in_slow_yml_does_not_run() throws Exception {
        JsonNode job = run("{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": "
                + Json.MAPPER.writeValueAsString(touch("issue")) + "}}");
        assertThat(job.path("status").asText()).isIn("successful", "failed");
        assertThat(out.resolve("issue")).doesNotExist();
    }

    @Test
    void hostile_strings_reach_the_playbook_exactly_as_sent() throws Exception {
        String[] hostile = {
            "'\"\\ \" \\\" '' \\n",
            "line\nbreak\r\n\ttab",
            "{{ 7 * 7 }}",
            "{% if true %}x{% endif %}",
            "{# c #}",
            "!unsafe {{ 1 }}",
            "&a anchor",
            "*a",
            "<<: *a",
            "!!python/object/apply:os.system ['id']",
            "--- ...",
            "# not a comment",
            "key: value",
            "- item",
            "? q",
            "| >",
            "@/etc/passwd",
            "%TAG",
            "`id`",
            "$(id)",
            "nul\u0000byte",
            "bell\u0007",
            "nel\u0085ls\u2028ps\u2029",
            "bom\uFEFF",
            "é 日本 😀 𝄞",
            "",
            " ",
            "null",
            "~",
            "true",
            "no",
            "0x1F",
            "1e3",
            ".inf",
            "=",
            "{",
            "[",
            "}",
            "]",
            ","
        };
        ObjectNode vars = Json.MAPPER.createObjectNode().put("tag", "hostile");
        ObjectNode payload = vars.putObject("payload");
        var list = payload.putArray("list");
        ObjectNode keys = payload.putObject("keys");
        for (int i = 0; i < hostile.length; i++) {
            list.add(hostile[i]);
            keys.put(hostile[i], i);
        }
        payload.put("int", -42)
                .put("big", new BigInteger("123456789012345678901234567890"))
                .put("float", 1.5e10)
                .put("small", -2.5e-7)
                .put("yes", true)
                .putNull("nothing");
        payload.putObject("empty");
        payload.putArray("none");
        JsonNode job = run("{\"playbook\": \"show.yml\", \"extra_vars\": " + vars + "}");

        assertThat(job.path("status").asText())
                .as(Files.readString(node.jobOutput(job.path("id").asLong())))
                .isEqualTo("successful");
        JsonNode received =
                Json.MAPPER.readTree(out.resolve("received-hostile.json").toFile());
        assertThat(received.path("list")).isEqualTo(payload.path("list"));
        assertThat(received.path("keys")).isEqualTo(payload.path("keys"));
        assertThat(received.path("int").asLong()).isEqualTo(-42);
        assertThat(received.path("big").bigIntegerValue())
                .isEqualTo(payload.path("big").bigIntegerValue());
        assertThat(received.path("float").asDouble()).isEqualTo(1.5e10);
        assertThat(received.path("small").asDouble()).isEqualTo(-2.5e-7);
        assertThat(received.path("yes").isBoolean()).isTrue();
        assertThat(received.path("nothing").isNull()).isTrue();
        assertThat(received.path("empty").isObject()).isTrue();
        assertThat(received.path("none").isArray()).isTrue();
    }

    @Test
    void a_limit_that_would_read_a_file_is_refused_with_the_reason() {
        for (String limit : List.of(
                "@/etc/shadow",
                "all,@/etc/passwd",
                "all:@/etc/passwd",
                " @/etc/passwd",
                "all:!@/etc/passwd",
                "all,&@x")) {
            HttpResponse<String> r = post("{\"playbook\": \"show.yml\", \"limit\": " + quote(limit) + "}");
            assertThat(r.statusCode()).as(limit + ": " + r.body()).isEqualTo(400);
            assertThat(Http.json(r.body()).path("detail").asText()).as(limit).contains("'@'");
        }
    }

    @Test
    void an_executable_file_is_not_taken_as_an_inventory_to_run() {
        HttpResponse<String> r = post("{\"playbook\": \"show.yml\", \"inventory\": \"helper.sh\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(Http.json(r.body()).path("detail").asText()).contains("executable");
        assertThat(out.resolve("script-ran")).doesNotExist();
    }

    @Test
    void a_value_that_looks_like_an_option_stays_a_value() throws Exception {
        JsonNode job = run("{\"playbook\": \"show.yml\", \"limit\": \"--version\", \"extra_vars\": {\"tag\": \"opt\","
                + " \"payload\": \"x\"}}");
        String printed = Files.readString(node.jobOutput(job.path("id").asLong()));
        // "--version" is a host pattern that matches nothing: nothing runs, and ansible-playbook did not print its
        // version
        assertThat(printed).doesNotContain("ansible-playbook [core").doesNotContain("usage:");
        assertThat(out.resolve("received-opt.json")).doesNotExist();
    }

    @Test
    void ansible_connection_and_interpreter_variables_cannot_be_set_at_launch() {
        for (String var : List.of(
                "ansible_python_interpreter",
                "ansible_shell_executable",
                "ansible_connection",
                "ansible_ssh_common_args",
                "ansible_become_exe",
                "ANSIBLE_PYTHON_INTERPRETER",
                "_ansible_no_log",
                "hostvars",
                "omit")) {
            String body = "{\"playbook\": \"slow.yml\", \"extra_vars\": {\"steps\": 1, \"" + var + "\": \"touch "
                    + out.resolve(var) + "; /usr/bin/python3\"}}";
            HttpResponse<String> r = post(body);
            assertThat(r.statusCode()).as(var + ": " + r.body()).isEqualTo(400);
            assertThat(Http.json(r.body()).path("detail").asText())
                    .contains(var)
                    .contains("reserved");
        }
        HttpResponse<String> notAName = post("{\"playbook\": \"slow.yml\", \"extra_vars\": {\"a-b\": 1}}");
        assertThat(notAName.statusCode()).as(notAName.body()).isEqualTo(400);
    }

    @Test
    void every_launch_field_is_bounded_and_free_of_control_characters() {
        String big = "x".repeat(20_000_000);
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("name of 513", "{\"playbook\": \"show.yml\", \"name\": \"" + "n".repeat(513) + "\"}");
        refused.put("name with NUL", "{\"playbook\": \"show.yml\", \"name\": \"a\\u0000b\"}");
        refused.put("name with a newline", "{\"playbook\": \"show.yml\", \"name\": \"a\\nb\"}");
        refused.put("name with a lone surrogate", "{\"playbook\": \"show.yml\", \"name\": \"a\\ud800b\"}");
        refused.put("limit of 4097", "{\"playbook\": \"show.yml\", \"limit\": \"" + "l".repeat(4097) + "\"}");
        refused.put("limit with a newline", "{\"playbook\": \"show.yml\", \"limit\": \"all\\nx\"}");
        refused.put("playbook of 1025", "{\"playbook\": \"" + "p".repeat(1025) + "\"}");
        refused.put("inventory of 1025", "{\"playbook\": \"show.yml\", \"inventory\": \"" + "i".repeat(1025) + "\"}");
        refused.put(
                "extra_vars over 1 MiB",
                "{\"playbook\": \"show.yml\", \"extra_vars\": {\"a\": \"" + "v".repeat(1 << 20) + "\"}}");
        refused.put(
                "extra_vars 33 deep",
                "{\"playbook\": \"show.yml\", \"extra_vars\": {\"a\": " + "[".repeat(32) + "]".repeat(32) + "}}");
        refused.put("extra_vars NaN", "{\"playbook\": \"show.yml\", \"extra_vars\": {\"a\": NaN}}");
        refused.put("extra_vars lone surrogate", "{\"playbook\": \"show.yml\", \"extra_vars\": {\"a\": \"\\udc00\"}}");
        // refused by its Content-Length before the body is read: the node answers 413 and closes the connection while
        // the client is still sending, so the client may see the close (a reset) before it reads the answer
        try {
            HttpResponse<String> r = post("{\"playbook\": \"show.yml\", \"name\": \"" + big + "\"}");
            assertThat(r.statusCode()).as(shorten(r.body())).isEqualTo(413);
            assertThat(Http.json(r.body()).path("detail").asText()).contains("at most");
        } catch (java.io.UncheckedIOException cut) {
            assertThat(cut).hasRootCauseInstanceOf(java.io.IOException.class);
        }
        refused.forEach((what, body) -> {
            HttpResponse<String> r = post(body);
            assertThat(r.statusCode()).as(what + ": " + shorten(r.body())).isIn(400, 413);
            assertThat(Http.json(r.body()).path("detail").asText()).as(what).isNotEmpty();
        });
        JsonNode jobs = Http.getJson(node.uri("/api/v2/jobs/?page_size=200"));
        for (JsonNode j : jobs.path("results"))
            assertThat(j.path("name").asText().length()).isLessThanOrEqualTo(512);
        // at the limits, accepted
        HttpResponse<String> ok = post("{\"playbook\": \"show.yml\", \"name\": \"" + "n".repeat(512) + "\", "
                + "\"limit\": \"nohost\", \"extra_vars\": {\"a\": " + "[".repeat(31) + "]".repeat(31) + "}}");
        assertThat(ok.statusCode()).as(shorten(ok.body())).isEqualTo(201);
        awaitDone(node, Http.json(ok.body()).path("id").asLong(), Duration.ofSeconds(120));
    }

    private static String shorten(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    private static String quote(String s) {
        try {
            return Json.MAPPER.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
