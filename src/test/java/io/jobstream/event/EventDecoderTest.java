package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventDecoderTest {
    private static final Instant NOW = Instant.parse("2026-11-28T10:00:00.123456Z");
    private final EventDecoder decoder = new EventDecoder(4096, Clock.fixed(NOW, ZoneOffset.UTC));

    private static final String OK = "{\"job_id\": 42, \"counter\": 7, \"event\": \"runner_on_ok\","
            + " \"uuid\": \"u7\", \"parent_uuid\": \"u6\", \"created\": \"2024-10-23T15:30:01.123456+00:00\","
            + " \"stdout\": \"\\u001b[0;32mok: [web1]\\u001b[0m\", \"start_line\": 9, \"end_line\": 10,"
            + " \"runner_ident\": \"42\", \"pid\": 31,"
            + " \"event_data\": {\"playbook\": \"site.yml\", \"play\": \"all\", \"task\": \"ping\", \"role\": \"\","
            + " \"host\": \"web1\", \"res\": {\"ping\": \"pong\", \"changed\": true}}}";

    @Test
    void decodes_an_awx_payload_and_derives_the_columns_awx_derives() {
        JobEvent e = (JobEvent) single(OK);
        assertThat(e.jobId()).isEqualTo(42);
        assertThat(e.counter()).isEqualTo(7);
        assertThat(e.event()).isEqualTo("runner_on_ok");
        assertThat(e.uuid()).isEqualTo("u7");
        assertThat(e.parentUuid()).isEqualTo("u6");
        assertThat(e.created()).isEqualTo(Instant.parse("2024-10-23T15:30:01.123456Z"));
        assertThat(e.createdFilled()).isFalse();
        assertThat(e.received()).isEqualTo(NOW);
        assertThat(e.stdout()).isEqualTo("\u001b[0;32mok: [web1]\u001b[0m");
        assertThat(e.startLine()).isEqualTo(9);
        assertThat(e.endLine()).isEqualTo(10);
        assertThat(e.hostName()).isEqualTo("web1");
        assertThat(e.playbook()).isEqualTo("site.yml");
        assertThat(e.task()).isEqualTo("ping");
        assertThat(e.changed()).isTrue();
        assertThat(e.failed()).isFalse();
        assertThat(e.level()).isEqualTo(3);
        // kept byte for byte as the emitter sent it, whitespace included
        assertThat(e.eventData()).isEqualTo(OK.substring(OK.indexOf("{\"playbook\""), OK.length() - 1));
    }

    @Test
    void naive_created_is_utc_and_missing_created_is_filled_with_receive_time() {
        JobEvent naive = (JobEvent)
                single("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"created\":\"2018-01-01T00:00:00\"}");
        assertThat(naive.created()).isEqualTo(Instant.parse("2018-01-01T00:00:00Z"));
        JobEvent spaced = (JobEvent) single(
                "{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"created\":\"2024-10-23 15:29:58.412345+02:00\"}");
        assertThat(spaced.created()).isEqualTo(Instant.parse("2024-10-23T13:29:58.412345Z"));
        JobEvent missing = (JobEvent) single("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\"}");
        assertThat(missing.created()).isEqualTo(NOW);
        assertThat(missing.createdFilled()).isTrue();
    }

    @Test
    void failed_honours_ignore_errors_and_stats_sum_failures_and_dark() {
        assertThat(((JobEvent) single("{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_failed\"}")).failed())
                .isTrue();
        assertThat(((JobEvent) single("{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_failed\","
                                + "\"event_data\":{\"ignore_errors\":true}}"))
                        .failed())
                .isFalse();
        JobEvent stats = (JobEvent) single("{\"job_id\":1,\"counter\":1,\"event\":\"playbook_on_stats\","
                + "\"event_data\":{\"failures\":{},\"dark\":{\"h1\":1},\"changed\":{\"h2\":0}}}");
        assertThat(stats.failed()).isTrue();
        assertThat(stats.changed()).isFalse();
    }

    @Test
    void eof_carries_the_final_counter() {
        assertThat(single("{\"event\":\"EOF\",\"job_id\":9,\"final_counter\":57,\"guid\":\"g\"}"))
                .isEqualTo(new JobEof(9, 57));
    }

    @Test
    void ndjson_lines_are_decoded_one_by_one_and_a_bad_line_keeps_its_neighbours() {
        List<Decoded> out = decoder.decodeBody("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\"}\n"
                + "{not json\n\n"
                + "{\"job_id\":1,\"counter\":\"3\",\"event\":\"verbose\"}\r\n"
                + "{\"job_id\":1,\"counter\":4,\"event\":\"verbose\"}");
        assertThat(out).hasSize(4);
        assertThat(out.get(0)).isInstanceOf(Decoded.Ok.class);
        assertThat(reason(out.get(1))).startsWith("malformed JSON");
        assertThat(out.get(1).line()).isEqualTo(2);
        assertThat(reason(out.get(2))).isEqualTo("counter: expected an integer from 1 to 2147483647, got string \"3\"");
        assertThat(out.get(2).line()).isEqualTo(4);
        assertThat(out.get(3)).isInstanceOf(Decoded.Ok.class);
    }

    @Test
    void array_elements_are_decoded_one_by_one() {
        List<Decoded> out = decoder.decodeBody("[{\"job_id\":1,\"counter\":1,\"event\":\"verbose\"}, 5,"
                + " {\"job_id\":1,\"counter\":2,\"event\":\"verbose\"}]");
        assertThat(out).extracting(Decoded::line).containsExactly(1, 2, 3);
        assertThat(reason(out.get(1))).isEqualTo("expected a JSON object, got number");
        assertThat(out.get(2)).isInstanceOf(Decoded.Ok.class);
    }

    @Test
    void a_broken_array_keeps_the_elements_before_the_break() {
        List<Decoded> out = decoder.decodeBody("[{\"job_id\":1,\"counter\":1,\"event\":\"verbose\"}, {\"job_id\":");
        assertThat(out.get(0)).isInstanceOf(Decoded.Ok.class);
        assertThat(reason(out.get(1))).startsWith("malformed JSON array");
    }

    @Test
    void issue12_ndjson_is_judged_by_line_even_when_the_first_line_starts_with_a_bracket() {
        byte[] body = ("[]]\n" + GOOD_LINE + "\n[{\"job_id\":1,\"counter\":3,\"event\":\"verbose\"}]\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        List<Decoded> out = decoder.decodeBody(body, Framing.NDJSON);
        assertThat(out).extracting(Decoded::line).containsExactly(1, 2, 3);
        assertThat(reason(out.get(0))).startsWith("expected a JSON object, got array");
        assertThat(out.get(1)).isInstanceOf(Decoded.Ok.class);
        assertThat(reason(out.get(2))).startsWith("expected a JSON object, got array");
        // a body that is exactly one well-formed array is that array, whatever its label
        byte[] array = ("[" + GOOD_LINE + ",\n" + GOOD_LINE.replace("\"counter\":2", "\"counter\":3") + "]")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(decoder.decodeBody(array, Framing.NDJSON)).hasSize(2).allMatch(d -> d instanceof Decoded.Ok);
    }

    @Test
    void issue12_an_undeclared_body_is_an_array_only_when_it_is_one_well_formed_array() {
        byte[] broken = ("[]]\n" + GOOD_LINE + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        List<Decoded> lines = decoder.decodeBody(broken, Framing.UNDECLARED);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).isInstanceOf(Decoded.Ok.class);
        byte[] array = ("[\n" + GOOD_LINE + "\n]\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(decoder.decodeBody(array, Framing.UNDECLARED))
                .singleElement()
                .isInstanceOf(Decoded.Ok.class);
        // application/json keeps AWX's one-document reading: a broken array keeps what came before the break
        assertThat(decoder.decodeBody(broken, Framing.JSON)).singleElement().isInstanceOf(Decoded.Rejected.class);
    }

    @Test
    void issue12_content_types_choose_the_framing() {
        assertThat(Framing.of("application/x-ndjson")).isEqualTo(Framing.NDJSON);
        assertThat(Framing.of(" Application/X-NDJSON ; charset=utf-8")).isEqualTo(Framing.NDJSON);
        assertThat(Framing.of("application/jsonl")).isEqualTo(Framing.NDJSON);
        assertThat(Framing.of("application/json; charset=utf-8")).isEqualTo(Framing.JSON);
        assertThat(Framing.of("application/vnd.x+json")).isEqualTo(Framing.JSON);
        assertThat(Framing.of("application/x-www-form-urlencoded")).isEqualTo(Framing.UNDECLARED);
        assertThat(Framing.of(null)).isEqualTo(Framing.UNDECLARED);
    }

    @Test
    void issue12_every_non_number_spelling_is_repaired_so_event_data_is_strict_json() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper strict = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String word :
                List.of("NaN", "-NaN", "+NaN", "Infinity", "+Infinity", "-Infinity", "INF", "+INF", "-INF")) {
            List<Decoded> out = decoder.decodeBody("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\","
                    + "\"event_data\":{\"res\":{\"x\":" + word + ",\"l\":[" + word + "]}}}");
            if (out.get(0) instanceof Decoded.Rejected r) continue; // not even lenient JSON: refused, never stored
            Decoded.Ok ok = (Decoded.Ok) out.get(0);
            String data = ((JobEvent) ok.message()).eventData();
            assertThat(strict.readTree(data).toString()).as(word).isEqualTo("{\"res\":{\"x\":null,\"l\":[null]}}");
            assertThat(ok.repairs())
                    .as(word)
                    .containsExactly("event_data: replaced 2 NaN/Infinity number(s) with null");
        }
    }

    private static final String GOOD_LINE = "{\"job_id\":1,\"counter\":2,\"event\":\"verbose\"}";

    @Test
    void nul_bytes_in_stdout_are_removed_and_reported_as_a_repair() {
        Decoded.Ok ok = (Decoded.Ok)
                decoder.decodeBody("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\",\"stdout\":\"a\\u0000b\\u0000\"}")
                        .get(0);
        assertThat(((JobEvent) ok.message()).stdout()).isEqualTo("ab");
        assertThat(ok.repairs()).containsExactly("stdout: removed 2 NUL character(s)");
    }

    @Test
    void unpaired_surrogates_become_replacement_characters_and_are_reported_while_pairs_are_kept() {
        Decoded.Ok ok = (Decoded.Ok) decoder.decodeBody("{\"job_id\":1,\"counter\":1,\"event\":\"verbose\","
                        + "\"stdout\":\"a\\udcffb\\ud83d\\ude00c\\ud800\",\"event_data\":{\"task\":\"t\\udc80\"}}")
                .get(0);
        assertThat(((JobEvent) ok.message()).stdout()).isEqualTo("a\uFFFDb\uD83D\uDE00c\uFFFD");
        assertThat(((JobEvent) ok.message()).task()).isEqualTo("t\uFFFD");
        assertThat(ok.repairs())
                .containsExactly(
                        "stdout: replaced 2 unpaired surrogate(s) with U+FFFD",
                        "task: replaced 1 unpaired surrogate(s) with U+FFFD");
    }

    @Test
    void python_nan_and_infinity_in_event_data_become_null_and_are_reported() throws Exception {
        Decoded.Ok ok = (Decoded.Ok) decoder.decodeBody("{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_ok\","
                        + "\"event_data\":{\"res\":{\"ratio\":NaN,\"list\":[1.5,Infinity,-Infinity],\"msg\":\"NaN\"}}}")
                .get(0);
        String data = ((JobEvent) ok.message()).eventData();
        assertThat(Json.MAPPER.readTree(data))
                .isEqualTo(Json.MAPPER.readTree("{\"res\":{\"ratio\":null,\"list\":[1.5,null,null],\"msg\":\"NaN\"}}"));
        assertThat(ok.repairs()).containsExactly("event_data: replaced 3 NaN/Infinity number(s) with null");
    }

    @Test
    void the_words_nan_and_infinity_inside_strings_leave_event_data_byte_for_byte() {
        String data = "{\"msg\":  \"NaN or Infinity\"}";
        Decoded.Ok ok = (Decoded.Ok) decoder.decodeBody(
                        "{\"job_id\":1,\"counter\":1,\"event\":\"verbose\"," + "\"event_data\":" + data + "}")
                .get(0);
        assertThat(((JobEvent) ok.message()).eventData()).isEqualTo(data);
        assertThat(ok.repairs()).isEmpty();
    }

    @Test
    void each_invalid_field_gets_a_reason_naming_it() {
        assertThat(reasonOf("{\"counter\":1,\"event\":\"verbose\"}")).isEqualTo("job_id: missing");
        assertThat(reasonOf("{\"project_update_id\":3,\"counter\":1,\"event\":\"verbose\"}"))
                .isEqualTo("unsupported job key 'project_update_id': only job events (job_id) are accepted");
        assertThat(reasonOf("{\"job_id\":1,\"event\":\"verbose\"}")).isEqualTo("counter: missing");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":0,\"event\":\"verbose\"}"))
                .startsWith("counter: expected an integer from 1");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":99999999999,\"event\":\"verbose\"}"))
                .startsWith("counter:");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":1}")).isEqualTo("event: missing");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"stdout\":5}"))
                .isEqualTo("stdout: expected a string, got number 5");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"created\":\"yesterday\"}"))
                .isEqualTo("created: not an ISO-8601 timestamp: yesterday");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"created\":\"1969-12-31T23:59:59Z\"}"))
                .isEqualTo("created: out of range (years 1970 to 9999): 1969-12-31T23:59:59Z");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"event_data\":[]}"))
                .isEqualTo("event_data: expected an object, got array");
        assertThat(reasonOf("{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"start_line\":5,\"end_line\":4}"))
                .isEqualTo("end_line (4) is before start_line (5)");
        assertThat(reasonOf("{\"job_id\":-1,\"counter\":1,\"event\":\"v\"}")).startsWith("job_id: expected an integer");
    }

    @Test
    void an_event_over_the_size_limit_is_rejected_with_the_limit() {
        String big = "{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"stdout\":\"" + "x".repeat(5000) + "\"}";
        assertThat(reasonOf(big))
                .isEqualTo("event is " + big.length() + " bytes, over the limit of 4096 bytes"
                        + " (ingest.max-event-size)");
        assertThat(reason(decoder.decodeBody("[" + big + "]").get(0)))
                .startsWith("event is " + big.length() + " bytes");
    }

    @Test
    void long_names_are_cut_like_awx_does() {
        JobEvent e = (JobEvent) single(
                "{\"job_id\":1,\"counter\":1,\"event\":\"v\",\"event_data\":{\"task\":\"" + "t".repeat(1500) + "\"}}");
        assertThat(e.task()).hasSize(1024).endsWith("t\u2026");
    }

    @Test
    void containers_where_awx_expects_strings_are_skipped_whole_and_event_data_kept_intact() {
        String data = "{\"res\": [1, {\"changed\": true}], \"host\": {\"name\": \"h\"}, \"play\": [\"p\"],"
                + " \"ignore_errors\": [0], \"task\": \"t\", \"changed\": {\"h\": 1}}";
        JobEvent e = (JobEvent) single("{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_failed\",\"event_data\":"
                + data + ",\"stdout\":\"after\"}");
        assertThat(e.eventData()).isEqualTo(data);
        assertThat(e.task()).isEqualTo("t");
        assertThat(e.hostName()).isEmpty();
        assertThat(e.play()).isEmpty();
        assertThat(e.changed()).isFalse();
        assertThat(e.failed()).as("a non-empty list is truthy: errors ignored").isFalse();
        assertThat(e.stdout()).isEqualTo("after");
    }

    @Test
    void an_empty_body_has_no_lines() {
        assertThat(decoder.decodeBody(" \n ")).isEmpty();
    }

    private JobMessage single(String json) {
        List<Decoded> out = decoder.decodeBody(json);
        assertThat(out).hasSize(1);
        assertThat(out.get(0)).as("decoded %s", out.get(0)).isInstanceOf(Decoded.Ok.class);
        return ((Decoded.Ok) out.get(0)).message();
    }

    private String reasonOf(String json) {
        List<Decoded> out = decoder.decodeBody(json);
        assertThat(out).hasSize(1);
        return reason(out.get(0));
    }

    private static String reason(Decoded d) {
        assertThat(d).isInstanceOf(Decoded.Rejected.class);
        return ((Decoded.Rejected) d).reason();
    }
}
