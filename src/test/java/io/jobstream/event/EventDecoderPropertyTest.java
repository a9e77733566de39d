package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The streaming decoder against a plain tree-based reading of AWX's rules, on thousands of random events whose
 * {@code event_data} puts every kind of JSON value (nested too) under the keys the decoder looks at.
 */
class EventDecoderPropertyTest {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> KEYS = List.of(
            "host",
            "play",
            "task",
            "role",
            "playbook",
            "res",
            "ignore_errors",
            "changed",
            "dark",
            "failures",
            "other",
            "nested");
    private static final List<String> EVENTS =
            List.of("runner_on_ok", "runner_on_failed", "playbook_on_stats", "verbose");
    private final EventDecoder decoder = new EventDecoder(1 << 20, Clock.systemUTC());
    private final Random random = new Random(20261128);

    @Test
    void the_streaming_decoder_agrees_with_a_tree_reading_of_awx_rules_on_random_events() throws Exception {
        for (int i = 0; i < 3000; i++) {
            ObjectNode data = F.objectNode();
            for (String key : KEYS) if (random.nextInt(3) > 0) data.set(key, value(3));
            String event = EVENTS.get(random.nextInt(EVENTS.size()));
            String json = "{\"job_id\":1,\"counter\":" + (i + 1) + ",\"event\":\"" + event + "\",\"event_data\":" + data
                    + ",\"stdout\":\"s" + i + "\"}";
            List<Decoded> out = decoder.decodeBody(json);
            assertThat(out).as(json).hasSize(1).first().isInstanceOf(Decoded.Ok.class);
            JobEvent e = (JobEvent) ((Decoded.Ok) out.get(0)).message();
            assertThat(Json.MAPPER.readTree(e.eventData())).as(json).isEqualTo(data);
            assertThat(e.stdout()).isEqualTo("s" + i);
            assertThat(e.hostName()).as(json).isEqualTo(text(data, "host"));
            assertThat(e.task()).as(json).isEqualTo(text(data, "task"));
            assertThat(e.play()).as(json).isEqualTo(text(data, "play"));
            assertThat(e.changed())
                    .as(json)
                    .isEqualTo(
                            event.equals("playbook_on_stats")
                                    ? sum(data, "changed") > 0
                                    : data.path("res").isObject()
                                            && truthy(data.path("res").get("changed")));
            assertThat(e.failed())
                    .as(json)
                    .isEqualTo(
                            event.equals("playbook_on_stats")
                                    ? sum(data, "failures") + sum(data, "dark") > 0
                                    : EventTypes.isFailure(event) && !truthy(data.get("ignore_errors")));
        }
    }

    private JsonNode value(int depth) {
        int kind = random.nextInt(depth > 0 ? 9 : 6);
        return switch (kind) {
            case 0 -> F.nullNode();
            case 1 -> F.booleanNode(random.nextBoolean());
            case 2 -> F.numberNode(random.nextInt(3));
            case 3 -> F.numberNode(random.nextDouble());
            case 4 -> F.textNode(random.nextBoolean() ? "" : "t\"\\\u00e9" + random.nextInt(100));
            case 5 -> F.textNode("x");
            case 6, 7 -> {
                ObjectNode o = F.objectNode();
                for (int k = random.nextInt(4); k > 0; k--)
                    o.set(random.nextBoolean() ? "changed" : "h" + k, value(depth - 1));
                yield o;
            }
            default -> {
                ArrayNode a = F.arrayNode();
                for (int k = random.nextInt(4); k > 0; k--) a.add(value(depth - 1));
                yield a;
            }
        };
    }

    private static String text(JsonNode data, String key) {
        JsonNode v = data.get(key);
        return v != null && v.isTextual() ? v.asText().strip() : "";
    }

    private static long sum(JsonNode data, String key) {
        long total = 0;
        JsonNode perHost = data.get(key);
        if (perHost != null && perHost.isObject()) {
            for (JsonNode count : perHost) if (count.isIntegralNumber()) total += count.asLong();
        }
        return total;
    }

    private static boolean truthy(JsonNode v) {
        if (v == null || v.isNull()) return false;
        if (v.isBoolean()) return v.booleanValue();
        if (v.isNumber()) return v.doubleValue() != 0;
        if (v.isTextual()) return !v.asText().isEmpty();
        return v.size() > 0;
    }
}
