package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RedactorTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-28T10:00:00Z"), ZoneOffset.UTC);

    private static EventDecoder decoder(Redactor r) {
        return new EventDecoder(1 << 20, Json.DEFAULT_EVENT_DEPTH, CLOCK, r);
    }

    private static JobEvent decode(Redactor r, String line) {
        List<Decoded> d = decoder(r).decodeBody(line);
        assertThat(d).hasSize(1).first().isInstanceOf(Decoded.Ok.class);
        return (JobEvent) ((Decoded.Ok) d.get(0)).message();
    }

    private static Redactor redactor(String... patterns) {
        return new Redactor(List.of(patterns).stream().map(Pattern::compile).toList());
    }

    @Test
    void every_match_in_stdout_strings_keys_and_derived_columns_is_masked() throws Exception {
        Redactor r = redactor("hunter\\d", "s3cr[e]t");
        String line = "{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_ok\","
                + "\"stdout\":\"ok: [web1] => pw=hunter2 and hunter3\\n\",\"start_line\":0,\"end_line\":1,"
                + "\"event_data\":{\"task\":\"login with hunter2\",\"host\":\"web1\","
                + "\"res\":{\"s3cret\":{\"list\":[\"a\",\"xhunter9y\",1,null,true]},\"changed\":true}}}";
        JobEvent e = decode(r, line);
        assertThat(e.stdout()).isEqualTo("ok: [web1] => pw=******** and ********\n");
        assertThat(e.task()).isEqualTo("login with ********");
        assertThat(e.eventData()).doesNotContain("hunter").doesNotContain("s3cret");
        JsonNode data = Json.MAPPER.readTree(e.eventData());
        assertThat(data.at("/res/********/list/1").asText()).isEqualTo("x********y");
        assertThat(data.at("/res/changed").asBoolean()).isTrue();
        assertThat(e.changed()).isTrue(); // derived before redaction
        assertThat(r.redactedEvents()).isEqualTo(1);
    }

    @Test
    void an_event_without_a_match_is_kept_byte_for_byte_and_not_counted() {
        Redactor r = redactor("hunter\\d");
        String line = "{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"stdout\":\"hello\","
                + "\"event_data\":{ \"a\" :  \"b\" }}";
        JobEvent e = decode(r, line);
        assertThat(e.eventData()).isEqualTo("{ \"a\" :  \"b\" }");
        assertThat(r.redactedEvents()).isZero();
    }

    @Test
    void a_secret_split_by_json_escapes_is_found_in_the_decoded_string() {
        Redactor r = redactor("pass\"word");
        JobEvent e = decode(
                r,
                "{\"job_id\":1,\"counter\":1,\"event\":\"verbose\","
                        + "\"event_data\":{\"cmd\":\"echo pass\\u0022word\"}}");
        assertThat(e.eventData()).isEqualTo("{\"cmd\":\"echo ********\"}");
    }

    @Test
    void a_no_log_result_is_censored_as_ansible_prints_it_without_any_pattern() throws Exception {
        Redactor r = Redactor.none();
        String line = "{\"job_id\":1,\"counter\":2,\"event\":\"runner_on_ok\",\"start_line\":3,\"end_line\":6,"
                + "\"stdout\":\"ok: [web1] => {\\n    \\\"password\\\": \\\"x\\\"\\n}\\n\","
                + "\"event_data\":{\"host\":\"web1\",\"res\":{\"password\":\"x\",\"changed\":false,"
                + "\"_ansible_no_log\":true}}}";
        JobEvent e = decode(r, line);
        JsonNode res = Json.MAPPER.readTree(e.eventData()).get("res");
        assertThat(res.get("censored").asText()).isEqualTo(Redactor.NO_LOG_TEXT);
        assertThat(res.has("password")).isFalse();
        assertThat(res.get("changed").asBoolean()).isFalse();
        assertThat(e.stdout()).startsWith("ok: [web1] => {\"censored\": \"" + Redactor.NO_LOG_TEXT + "\"}");
        // the lines the result took are still there (empty), so end_line - start_line stays true
        assertThat(e.stdout().chars().filter(c -> c == '\n').count()).isEqualTo(3);
        assertThat(r.noLogEvents()).isEqualTo(1);
    }

    @Test
    void no_pattern_and_no_no_log_returns_the_same_event() {
        Redactor r = Redactor.none();
        JobEvent e = decode(r, "{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"stdout\":\"hunter2\"}");
        assertThat(e.stdout()).isEqualTo("hunter2");
        assertThat(r.redactedEvents()).isZero();
    }

    @Test
    void catastrophic_backtracking_is_cut_off_and_the_string_masked_whole() {
        Redactor r = redactor("(a+)+\\1b"); // a back-reference defeats the engine's memoisation: exponential in Java 21
        String hostile = "a".repeat(40) + "!";
        long start = System.nanoTime();
        assertThat(r.redact(hostile)).isEqualTo(Redactor.MASK);
        assertThat(r.overBudgetStrings()).isEqualTo(1);
        // a harmless string with the same pattern still matches normally
        assertThat(r.redact("xaab")).isEqualTo("x********");
        assertThat(System.nanoTime() - start).as("bounded work, not 2^40 steps").isLessThan(60_000_000_000L);
        // the same string inside event_data: found on the streaming pass, masked whole on the rebuild
        JobEvent e = decode(
                r, "{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"event_data\":{\"k\":\"" + hostile + "\"}}");
        assertThat(e.eventData()).isEqualTo("{\"k\":\"********\"}");
        assertThat(r.overBudgetStrings()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void a_rejection_reason_quoting_the_payload_is_redacted() {
        Redactor r = redactor("hunter\\d");
        List<Decoded> d =
                decoder(r).decodeBody("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"created\":\"hunter2\"}");
        assertThat(((Decoded.Rejected) d.get(0)).reason()).contains("********").doesNotContain("hunter2");
    }

    @Test
    void a_result_the_emitter_censored_already_is_kept_byte_for_byte() {
        Redactor r = Redactor.none();
        String data = "{\"host\":\"h\",\"res\":{\"censored\":\"" + Redactor.NO_LOG_TEXT
                + "\",\"changed\":false,\"_ansible_no_log\":true, \"x\": 1}}";
        String stdout = "ok: [h] => {\\n    \\\"censored\\\": \\\"" + Redactor.NO_LOG_TEXT + "\\\"\\n}";
        JobEvent e = decode(
                r,
                "{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_ok\",\"stdout\":\"" + stdout + "\",\"event_data\":"
                        + data + "}");
        assertThat(e.eventData()).isEqualTo(data);
        assertThat(e.stdout()).contains("\n    \"censored\"");
        assertThat(r.noLogEvents()).isZero();
        assertThat(r.redactedEvents()).isZero();
    }
}
