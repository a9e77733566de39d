package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Bounded fuzzing of what a browser may send (seeded, a second or two): the parser never throws; every message is
 * either an object or rejected with a known reason; groups come out exactly as AWX names them; resume never yields
 * a job that was not asked for or a negative counter; nesting is refused exactly above the limit.
 * A longer or different run: {@code -Dfuzz.seed=N -Dfuzz.scale=K} (K times the iterations).
 */
class SubscribeParserFuzzTest {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String PUNCTUATION = "{}[]\":,1-\u0000\\";
    private final SubscribeParser parser = new SubscribeParser(16);
    private static final int SCALE = Integer.getInteger("fuzz.scale", 1);
    private final Random random = new Random(Long.getLong("fuzz.seed", 11_20261128L));

    @Test
    void any_text_is_read_as_an_object_or_rejected_with_a_known_reason_and_never_throws() {
        String valid = "{\"xrftoken\":\"t\",\"groups\":{\"jobs\":[\"status_changed\"],\"job_events\":[1,\"2\"]},"
                + "\"resume\":{\"1\":5},\"batch\":true}";
        int objects = 0;
        for (int i = 0; i < 10_000 * SCALE; i++) {
            String text = i % 3 == 0 ? randomText() : mutate(valid);
            SubscribeParser.Read read = parser.read(text);
            assertThat(read.message() == null).as(() -> text).isNotEqualTo(read.rejected() == null);
            if (read.message() != null) {
                objects++;
                // whatever the object holds, the next steps do not throw either
                List<SubscribeParser.Group> groups =
                        SubscribeParser.groups(read.message().get("groups"));
                Set<String> wanted = new LinkedHashSet<>();
                if (groups != null)
                    for (SubscribeParser.Group g : groups) {
                        wanted.add(g.key());
                        g.jobId();
                    }
                SubscribeParser.resume(read.message().get("resume"), wanted);
            } else {
                assertThat(read.rejected()).isIn(SubscribeParser.MALFORMED, SubscribeParser.TOO_DEEP);
            }
        }
        assertThat(objects).as("mutations that still parse").isGreaterThan(300);
    }

    @Test
    void groups_are_named_as_awx_names_them_and_anything_but_lists_refuses_the_message() {
        for (int i = 0; i < 5_000 * SCALE; i++) {
            JsonNode groups = random.nextInt(4) == 0 ? value(3) : groupsObject();
            List<SubscribeParser.Group> parsed = SubscribeParser.groups(groups);
            boolean acceptable = groups.isObject();
            List<String> expected = new ArrayList<>();
            if (acceptable) {
                for (Map.Entry<String, JsonNode> e : groups.properties()) {
                    if (!e.getValue().isArray()) {
                        acceptable = false;
                        break;
                    }
                    for (JsonNode v : e.getValue()) {
                        String id = v.isTextual()
                                ? v.textValue()
                                : v.isIntegralNumber() ? v.bigIntegerValue().toString() : v.toString();
                        String key = e.getKey() + "-" + id;
                        if (!expected.contains(key)) expected.add(key);
                    }
                }
            }
            if (!acceptable) {
                assertThat(parsed).as(groups::toString).isNull();
                continue;
            }
            assertThat(parsed)
                    .as(groups::toString)
                    .extracting(SubscribeParser.Group::key)
                    .containsExactlyElementsOf(expected);
            for (SubscribeParser.Group g : parsed) {
                if (g.jobId().isPresent()) {
                    // only an integral number or a plain digit string is a job id
                    assertThat(g.value().isIntegralNumber()
                                    || g.value().isFloatingPointNumber()
                                    || g.value().asText().matches("[0-9]{1,18}"))
                            .as(g::toString)
                            .isTrue();
                }
            }
        }
    }

    @Test
    void resume_yields_only_asked_for_jobs_with_counters_from_zero_or_refuses() {
        for (int i = 0; i < 20_000 * SCALE; i++) {
            JsonNode resume = random.nextInt(3) == 0 ? value(2) : resumeObject();
            Set<String> wanted = new LinkedHashSet<>();
            for (int k = random.nextInt(4); k > 0; k--) wanted.add("job_events-" + random.nextInt(5));
            Map<Long, Integer> parsed = SubscribeParser.resume(resume, wanted);
            if (!resume.isObject()) assertThat(parsed).isNull();
            if (parsed == null) continue;
            for (var e : parsed.entrySet()) {
                assertThat(wanted).contains("job_events-" + e.getKey());
                assertThat(e.getValue()).isNotNegative();
                // the key as sent may be "01": the last entry naming that job wins
                int sent = -1;
                for (var f : resume.properties()) {
                    if (f.getKey().matches("[0-9]{1,18}") && Long.parseLong(f.getKey()) == e.getKey())
                        sent = f.getValue().intValue();
                }
                assertThat(e.getValue()).isEqualTo(sent);
            }
        }
    }

    @Test
    void nesting_is_refused_exactly_above_the_limit() {
        for (int depth = 1; depth < 60; depth++) {
            String text = "{\"a\":".repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
            SubscribeParser.Read read = parser.read(text);
            if (depth <= 16) assertThat(read.message()).as("depth " + depth).isNotNull();
            else assertThat(read.rejected()).as("depth " + depth).isEqualTo(SubscribeParser.TOO_DEEP);
        }
    }

    private ObjectNode groupsObject() {
        ObjectNode o = F.objectNode();
        List<String> names = List.of("jobs", "job_events", "schedules", "control", "x-y", "");
        for (int k = random.nextInt(4); k > 0; k--) {
            ArrayNode values = o.putArray(names.get(random.nextInt(names.size())));
            for (int v = random.nextInt(5); v > 0; v--) values.add(value(1));
        }
        return o;
    }

    private ObjectNode resumeObject() {
        ObjectNode o = F.objectNode();
        List<String> keys = List.of("0", "1", "2", "3", "4", "-1", "x", "99999999999999999999", "01");
        for (int k = random.nextInt(4); k > 0; k--) o.set(keys.get(random.nextInt(keys.size())), value(1));
        return o;
    }

    private JsonNode value(int depth) {
        return switch (random.nextInt(depth > 0 ? 12 : 10)) {
            case 0 -> F.nullNode();
            case 1 -> F.booleanNode(random.nextBoolean());
            case 2 -> F.numberNode(random.nextInt(10) - 2);
            case 3 -> F.numberNode(random.nextLong());
            case 4 -> F.numberNode(random.nextDouble() * 10);
            case 5 -> F.numberNode(new java.math.BigInteger("123456789012345678901234567890"));
            case 6 -> F.textNode(Integer.toString(random.nextInt(100)));
            case 7 -> F.textNode("status_changed");
            case 8 -> F.textNode(" 1");
            case 9 -> F.numberNode(Integer.MAX_VALUE + 1L);
            case 10 -> {
                ArrayNode a = F.arrayNode();
                for (int k = random.nextInt(3); k > 0; k--) a.add(value(depth - 1));
                yield a;
            }
            default -> {
                ObjectNode o = F.objectNode();
                for (int k = random.nextInt(3); k > 0; k--) o.set("k" + k, value(depth - 1));
                yield o;
            }
        };
    }

    private String randomText() {
        StringBuilder sb = new StringBuilder();
        String alphabet = "{}[]\":,0123456789-.eE truefalsnl\\u\u00e9\ud83d\ude00\u0000";
        for (int k = random.nextInt(80); k > 0; k--) sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        if (random.nextInt(10) == 0) sb.append("[".repeat(random.nextInt(5000)));
        return sb.toString();
    }

    private String mutate(String s) {
        StringBuilder sb = new StringBuilder(s);
        for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
            int at = random.nextInt(sb.length() + 1);
            switch (random.nextInt(4)) {
                case 0 -> {
                    if (at < sb.length()) sb.deleteCharAt(at);
                }
                case 1 -> sb.insert(at, PUNCTUATION.charAt(random.nextInt(PUNCTUATION.length())));
                case 2 ->
                    sb.insert(
                            at,
                            List.of("null", "[]", "{}", "\"x\"", "1.5", "-1", "[1,2]", "{\"a\":1}")
                                    .get(random.nextInt(8)));
                default -> {} // unchanged
            }
        }
        return sb.toString();
    }
}
