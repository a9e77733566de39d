package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * NDJSON lines decoded on one shared parser give every line exactly the verdict, reason and repairs it gets when
 * decoded alone (a parser per line): hostile and broken lines between good ones, lines that are not one object,
 * objects spread over lines, and random bodies cut and spliced from such lines.
 */
class EventDecoderLinesTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-06T20:00:00Z"), ZoneOffset.UTC);
    private static final String DAMAGE = "{}[]\":,\n \\x\r";
    private final EventDecoder decoder = new EventDecoder(2048, 8, CLOCK);

    private static String good(int counter) {
        return "{\"job_id\":7,\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"u" + counter
                + "\",\"created\":\"2026-12-06T19:00:00.123456Z\",\"stdout\":\"ok \\u001b[0m\","
                + "\"event_data\":{\"host\":\"h" + counter + "\",\"task\":\"t\",\"res\":{\"changed\":true}}}";
    }

    /** Lines that a shared parser could get wrong if it did not fall back to the line alone. */
    private static final List<String> HOSTILE = List.of(
            "{\"job_id\":7,\"counter\":1}{\"job_id\":7,\"counter\":2}", // two objects on one line
            "{\"job_id\":7,\"counter\":3,\"event\":\"x\"} trailing",
            "{\"job_id\":7,\"counter\":4,\"event\":\"runner_on_ok\",", // object continued on the next line
            "\"stdout\":\"second half\"}",
            "{\"job_id\":7,\"counter\":\"five\",\"event\":\"runner_on_ok\"}", // invalid field: EventParser.Invalid
            "[1,2,3]",
            "42",
            "\"a string\"",
            "{\"job_id\":7,\"counter\":6,\"event\":\"runner_on_ok\",\"stdout\":\"nul\\u0000here\"}", // a repair
            "{\"job_id\":7,\"counter\":7,\"event\":\"runner_on_ok\",\"event_data\":{\"a\":{\"b\":{\"c\":{\"d\":"
                    + "{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}}", // deeper than 8
            "{\"job_id\":7,\"counter\":8,\"event\":\"runner_on_ok\",\"stdout\":\"" + "x".repeat(3000) + "\"}",
            "\u000b{\"job_id\":7,\"counter\":9,\"event\":\"runner_on_ok\"}", // a vertical tab: not JSON whitespace
            "{\"job_id\":7,\"counter\":10,\"event\":\"runner_on_ok\"}\u000c",
            "  \t{\"job_id\":7,\"counter\":11,\"event\":\"runner_on_ok\"}\t  ",
            "{\"job_id\":7,\"counter\":12,\"event\":\"runner_on_ok\"}\r",
            "{\"job_id\":7,\"counter\":13,\"event\":\"runner_on_ok\"", // never closed
            "}",
            "{\"job_id\":7,\"counter\":14,\"event\":\"runner_on_ok\",\"created\":\"not a time\"}",
            "{\"job_id\":7,\"counter\":15,\"event\":\"runner_on_ok\",\"stdout\":\"\\ud800\"}", // lone surrogate
            "{\"job_id\":7,\"counter\":16,\"event\":\"runner_on_ok\"} // a comment",
            "\u000b",
            "\u00a0{}",
            "{\"job_id\":7,\"counter\":17,\"event\":\"runner_on_ok\",\"stdout\":\"broken \\q escape\"}",
            "{\"job_id\":7,\"counter\":18,\"event\":\"runner_on_ok\",\"event_data\":{\"host\":\"x\"}}}",
            "{\"job_id\":7,\"counter\":19,\"event\":\"runner_on_ok\",\"event_data\":{\"host\":\"x\"}");

    @Test
    void every_hostile_line_between_good_ones_gets_what_it_gets_alone() {
        for (String bad : HOSTILE) {
            String body = good(100) + "\n" + bad + "\n" + good(101) + "\n\n" + good(102);
            assertSame(body);
        }
    }

    @Test
    void a_body_of_only_good_lines_decodes_every_event_with_its_own_line_number() {
        StringBuilder body = new StringBuilder();
        for (int i = 1; i <= 50; i++) body.append(good(i)).append(i % 7 == 0 ? "\r\n\n" : "\n");
        List<Decoded> out = assertSame(body.toString());
        assertThat(out).hasSize(50).allMatch(d -> d instanceof Decoded.Ok);
        assertThat(((JobEvent) ((Decoded.Ok) out.get(49)).message()).counter()).isEqualTo(50);
        assertThat(((JobEvent) ((Decoded.Ok) out.get(49)).message()).eventData())
                .isEqualTo("{\"host\":\"h50\",\"task\":\"t\",\"res\":{\"changed\":true}}");
    }

    @Test
    void random_bodies_spliced_from_good_and_hostile_lines_and_cut_anywhere_agree_with_a_parser_per_line() {
        Random random = new Random(20261206);
        for (int round = 0; round < 2000; round++) {
            List<String> lines = new ArrayList<>();
            int n = 1 + random.nextInt(12);
            for (int i = 0; i < n; i++) {
                lines.add(random.nextInt(3) == 0 ? HOSTILE.get(random.nextInt(HOSTILE.size())) : good(round * 20 + i));
            }
            String body = String.join(random.nextBoolean() ? "\n" : "\r\n", lines);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            if (random.nextInt(4) == 0) { // cut or damage one byte anywhere
                int at = random.nextInt(bytes.length);
                bytes[at] = (byte) DAMAGE.charAt(random.nextInt(DAMAGE.length()));
            }
            if (new String(bytes, StandardCharsets.UTF_8).strip().startsWith("[")) continue; // an array body: not lines
            assertThat(decoder.decodeBody(bytes, Framing.NDJSON))
                    .as(new String(bytes, StandardCharsets.UTF_8))
                    .isEqualTo(decoder.decodeLinesOneByOne(bytes));
        }
    }

    private List<Decoded> assertSame(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        List<Decoded> shared = decoder.decodeBody(bytes, Framing.NDJSON);
        assertThat(shared).as(body).isEqualTo(decoder.decodeLinesOneByOne(bytes));
        return shared;
    }
}
