package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Bounded fuzzing of the ingest decoder: tens of thousands of mutated and generated bodies (a few seconds, seeded so
 * a failure repeats). The properties: it never throws, only rejects with a reason of a known kind; what it accepts
 * round-trips (written back as JSON and decoded again it is the same event, with nothing left to repair); what it
 * repairs is reported; nesting is refused exactly above the configured depth, in NDJSON and in arrays alike.
 * A longer or different run: {@code -Dfuzz.seed=N -Dfuzz.scale=K} (K times the iterations).
 */
class EventDecoderFuzzTest {
    private static final Set<String> TAGS =
            Set.of("too_deep", "malformed_json", "too_large", "job", "not_an_object", "invalid_field");
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-28T12:00:00Z"), ZoneOffset.UTC);
    private final EventDecoder decoder = new EventDecoder(16 * 1024, 50, CLOCK);
    private static final int SCALE = Integer.getInteger("fuzz.scale", 1);
    private final Random random = new Random(Long.getLong("fuzz.seed", 7_20261128L));

    @Test
    void mutated_events_never_make_the_decoder_throw_and_whatever_it_accepts_round_trips() {
        List<byte[]> seeds = seeds();
        int accepted = 0;
        int rejected = 0;
        for (int i = 0; i < 30_000 * SCALE; i++) {
            byte[] body = mutate(seeds.get(random.nextInt(seeds.size())), seeds);
            List<Decoded> out = decoder.decodeBody(body);
            for (Decoded d : out) { // plain checks in the hot loop: AssertJ's cost would dominate the run
                if (d.line() <= 0) fail("line " + d.line() + " in " + new String(body, StandardCharsets.UTF_8));
                if (d instanceof Decoded.Rejected r) {
                    rejected++;
                    if (r.reason().isBlank() || !TAGS.contains(r.tag()))
                        fail("reason '" + r.reason() + "' (" + r.tag() + ")");
                } else if (d instanceof Decoded.Ok ok && ok.message() instanceof JobEvent e) {
                    accepted++;
                    assertRoundTrips(e, ok.repairs());
                }
            }
        }
        // the mutations must exercise both sides, or the property says nothing
        assertThat(accepted).isGreaterThan(3_000);
        assertThat(rejected).isGreaterThan(3_000);
    }

    @Test
    void stdout_with_nul_or_lone_surrogates_is_repaired_and_the_repair_reported() {
        for (int i = 0; i < 3_000 * SCALE; i++) {
            StringBuilder stdout = new StringBuilder();
            boolean nul = false;
            boolean surrogate = false;
            for (int k = random.nextInt(30); k > 0; k--) {
                switch (random.nextInt(6)) {
                    case 0 -> {
                        stdout.append('\0');
                        nul = true;
                    }
                    case 1 -> {
                        stdout.append((char) (0xd800 + random.nextInt(0x800)));
                        surrogate = true;
                    }
                    case 2 -> stdout.append("\ud83d\ude00"); // a proper pair stays
                    default -> stdout.append((char) (0x20 + random.nextInt(0x500)));
                }
            }
            // a high surrogate followed by a low one happens to be a pair: that is no repair
            String text = stdout.toString();
            surrogate = hasLoneSurrogate(text.replace("\0", ""));
            // escaped by hand: as UTF-8 a lone surrogate cannot be written at all, only as a JSON escape
            String event = "{\"job_id\":1,\"counter\":" + (i + 1) + ",\"event\":\"runner_on_ok\",\"stdout\":\""
                    + escaped(text) + "\"}";
            List<Decoded> out = decoder.decodeBody(event);
            assertThat(out).hasSize(1).first().isInstanceOf(Decoded.Ok.class);
            Decoded.Ok ok = (Decoded.Ok) out.get(0);
            JobEvent e = (JobEvent) ok.message();
            assertThat(e.stdout()).doesNotContain("\0");
            assertThat(hasLoneSurrogate(e.stdout())).isFalse();
            assertThat(ok.repairs().stream().anyMatch(r -> r.contains("NUL")))
                    .as(text)
                    .isEqualTo(nul);
            assertThat(ok.repairs().stream().anyMatch(r -> r.contains("surrogate")))
                    .as(text)
                    .isEqualTo(surrogate);
            if (!nul && !surrogate) assertThat(e.stdout()).isEqualTo(text);
            assertRoundTrips(e, ok.repairs());
        }
    }

    private static String escaped(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || Character.isSurrogate(c) || c == '"' || c == '\\') {
                String hex = Integer.toHexString(c);
                sb.append("\\u").append("0000", hex.length(), 4).append(hex);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @Test
    void an_event_data_given_twice_counts_only_as_the_last_one_including_its_derived_columns() {
        // found by a longer fuzz run (-Dfuzz.seed=424242 -Dfuzz.scale=10): the first one's task leaked into the columns
        String body = "{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_failed\",\"event_data\":{\"task\":\"t\","
                + "\"host\":\"h\",\"ignore_errors\":true,\"res\":{\"changed\":true}},\"event_data\":{\"play\":\"p\"}}";
        JobEvent e = (JobEvent) ((Decoded.Ok) decoder.decodeBody(body).get(0)).message();
        assertThat(e.eventData()).isEqualTo("{\"play\":\"p\"}");
        assertThat(e.task()).isEmpty();
        assertThat(e.hostName()).isEmpty();
        assertThat(e.play()).isEqualTo("p");
        assertThat(e.changed()).isFalse();
        assertThat(e.failed()).as("ignore_errors was in the first one only").isTrue();
    }

    @Test
    void nesting_is_refused_exactly_above_the_configured_depth_in_ndjson_and_in_arrays() {
        for (int k = 0; k < 120; k++) {
            boolean objects = k % 2 == 0;
            String nested = (objects ? "{\"a\":" : "[").repeat(k) + "1" + (objects ? "}" : "]").repeat(k);
            String event =
                    "{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_ok\",\"event_data\":{\"x\":" + nested + "}}";
            boolean fits = 2 + k <= 50; // the event object, event_data, then k levels
            for (String body : List.of(event, "[" + event + "]", event + "\n" + event)) {
                for (Decoded d : decoder.decodeBody(body)) {
                    if (fits) {
                        assertThat(d).as("depth " + (2 + k)).isInstanceOf(Decoded.Ok.class);
                    } else {
                        assertThat(d).as("depth " + (2 + k)).isInstanceOf(Decoded.Rejected.class);
                        assertThat(((Decoded.Rejected) d).tag()).isEqualTo("too_deep");
                    }
                }
            }
        }
    }

    @Test
    void an_event_as_deep_as_the_highest_setting_allows_is_accepted_and_repaired_like_any_other() throws Exception {
        EventDecoder deepest = new EventDecoder(1 << 20, Json.MAX_NESTING_DEPTH, CLOCK);
        int k = Json.MAX_NESTING_DEPTH - 3; // the event, event_data, "x", then k arrays around NaN
        String event = "{\"job_id\":1,\"counter\":1,\"event\":\"playbook_on_stats\",\"event_data\":{\"x\":"
                + "[".repeat(k) + "NaN" + "]".repeat(k) + ",\"changed\":{\"h\":1}}}";
        List<Decoded> out = deepest.decodeBody(event);
        assertThat(out).hasSize(1).first().isInstanceOf(Decoded.Ok.class);
        assertThat(((Decoded.Ok) out.get(0)).repairs()).anyMatch(r -> r.contains("NaN"));
        assertThat(Json.MAPPER.readTree(((JobEvent) ((Decoded.Ok) out.get(0)).message()).eventData()))
                .isNotNull();
    }

    /**
     * Written back as JSON and decoded again, an accepted event is the same, and needs no new repair (event_data is
     * kept verbatim, so a column derived from it is repaired again the same way; stdout needs none).
     */
    private void assertRoundTrips(JobEvent e, List<String> repairs) {
        ObjectNode o = Json.MAPPER
                .createObjectNode()
                .put("job_id", e.jobId())
                .put("counter", e.counter())
                .put("event", e.event())
                .put("uuid", e.uuid())
                .put("parent_uuid", e.parentUuid())
                .put("stdout", e.stdout())
                .put("start_line", e.startLine())
                .put("end_line", e.endLine())
                .put("verbosity", e.verbosity())
                .put("host_name", e.hostName())
                .put("created", Timestamps.format(e.created()));
        String json = o.toString();
        json = json.substring(0, json.length() - 1) + ",\"event_data\":" + e.eventData() + "}";
        // as an array: event_data is kept byte for byte, and may hold raw newlines (JSON whitespace) that an array
        // body allows but an NDJSON line cannot
        List<Decoded> again = decoder.decodeBody("[" + json + "]");
        if (again.size() != 1 || !(again.get(0) instanceof Decoded.Ok))
            assertThat(again).as(json).hasSize(1).first().isInstanceOf(Decoded.Ok.class);
        Decoded.Ok ok = (Decoded.Ok) again.get(0);
        if (!ok.repairs().isEmpty()) {
            assertThat(repairs).as(json).containsAll(ok.repairs());
            assertThat(ok.repairs()).as(json).noneMatch(r -> r.startsWith("stdout"));
        }
        JobEvent back = (JobEvent) ok.message();
        JobEvent expected = new JobEvent(
                e.jobId(),
                e.counter(),
                e.uuid(),
                e.parentUuid(),
                e.event(),
                e.eventData(),
                e.stdout(),
                e.startLine(),
                e.endLine(),
                e.verbosity(),
                e.hostName(),
                e.playbook(),
                e.play(),
                e.role(),
                e.task(),
                e.failed(),
                e.changed(),
                e.created(),
                back.createdFilled(),
                back.received());
        if (!back.equals(expected)) assertThat(back).as(json).isEqualTo(expected); // cheap check first: 30,000 runs
    }

    private List<byte[]> seeds() {
        List<String> events = List.of(
                "{\"job_id\":1,\"counter\":1,\"event\":\"runner_on_ok\",\"uuid\":\"a\",\"stdout\":\"ok: [h]\","
                        + "\"created\":\"2026-11-28T11:00:00.123456\",\"start_line\":0,\"end_line\":1,"
                        + "\"event_data\":{\"host\":\"h\",\"task\":\"t\",\"res\":{\"changed\":true,\"x\":[1,2,{\"y\":null}]}}}",
                "{\"job_id\":2,\"counter\":7,\"event\":\"playbook_on_stats\",\"event_data\":{\"changed\":{\"h\":1},"
                        + "\"failures\":{\"h\":0},\"dark\":{}}}",
                "{\"job_id\":3,\"counter\":2,\"event\":\"runner_on_failed\",\"stdout\":\"fatal \\u001b[31m\\u00e9\\ud83d\\ude00\","
                        + "\"event_data\":{\"ignore_errors\":true,\"play\":\"p\",\"role\":\"r\"},\"runner_ident\":\"x\"}",
                "{\"event\":\"EOF\",\"job_id\":4,\"final_counter\":12}",
                "{\"job_id\":5,\"counter\":1,\"event\":\"verbose\",\"stdout\":\"\",\"verbosity\":3,\"parent_uuid\":\"p\","
                        + "\"created\":\"2026-11-28T11:00:00+02:00\",\"host_name\":\"web\"}");
        List<byte[]> seeds = new ArrayList<>();
        for (String e : events) seeds.add(e.getBytes(StandardCharsets.UTF_8));
        seeds.add(("[" + events.get(0) + "," + events.get(1) + "]").getBytes(StandardCharsets.UTF_8));
        seeds.add((events.get(2) + "\n" + events.get(4) + "\r\n").getBytes(StandardCharsets.UTF_8));
        return seeds;
    }

    /** One to four random edits: byte flips, inserts of interesting bytes and tokens, deletes, repeats, splices. */
    private byte[] mutate(byte[] seed, List<byte[]> seeds) {
        byte[] b = seed;
        for (int edits = 1 + random.nextInt(4); edits > 0; edits--) {
            int at = random.nextInt(b.length + 1);
            b = switch (random.nextInt(8)) {
                case 0 -> {
                    byte[] c = b.clone();
                    if (c.length > 0) c[Math.min(at, c.length - 1)] ^= (byte) (1 << random.nextInt(8));
                    yield c;
                }
                case 1 -> insert(b, at, new byte[] {(byte) random.nextInt(256)});
                case 2 ->
                    insert(
                            b,
                            at,
                            pick(List.of(
                                            "\\u0000",
                                            "\\ud800",
                                            "\\udfff",
                                            "\u0000",
                                            "\"",
                                            "\\",
                                            "{",
                                            "[",
                                            "}",
                                            "]",
                                            ",",
                                            ":",
                                            "null",
                                            "-1",
                                            "1e400",
                                            "99999999999",
                                            "NaN",
                                            "\n",
                                            "\"counter\":",
                                            "\"job_id\":",
                                            "\"created\":",
                                            "\"9999-99-99\"",
                                            "\"+999999-01-01T00:00:00Z\"",
                                            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                                            "\"ad_hoc_command_id\":1,"))
                                    .getBytes(StandardCharsets.UTF_8));
                case 3 -> insert(b, at, new byte[] {(byte) 0xc3, 0x28}); // invalid UTF-8
                case 4 -> {
                    int len = random.nextInt(Math.max(1, b.length - at + 1));
                    byte[] c = new byte[b.length - len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + len, c, at, b.length - at - len);
                    yield c;
                }
                case 5 -> {
                    int len = Math.min(b.length - at, random.nextInt(40));
                    byte[] piece = new byte[len];
                    System.arraycopy(b, at, piece, 0, len);
                    yield insert(b, at, piece);
                }
                case 6 -> {
                    byte[] other = seeds.get(random.nextInt(seeds.size()));
                    int from = random.nextInt(other.length);
                    byte[] piece = new byte[random.nextInt(other.length - from + 1)];
                    System.arraycopy(other, from, piece, 0, piece.length);
                    yield insert(b, at, piece);
                }
                default -> b; // unchanged: keeps a share of valid bodies, so acceptance is fuzzed too
            };
        }
        return b;
    }

    private String pick(List<String> options) {
        return options.get(random.nextInt(options.size()));
    }

    private static byte[] insert(byte[] b, int at, byte[] piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + piece.length);
        out.write(b, 0, at);
        out.write(piece, 0, piece.length);
        out.write(b, at, b.length - at);
        return out.toByteArray();
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
                else return true;
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }
}
