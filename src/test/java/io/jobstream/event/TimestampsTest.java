package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TimestampsTest {
    @ParameterizedTest
    @CsvSource({
        "2024-10-23T15:30:01.123456+00:00, 2024-10-23T15:30:01.123456Z",
        "2024-10-23 15:29:58.412345+00:00, 2024-10-23T15:29:58.412345Z",
        "2018-01-01T00:00:00,              2018-01-01T00:00:00Z",
        "2018-01-01T00:00:00Z,             2018-01-01T00:00:00Z",
        "2024-10-23T15:30:01.9+02:00,      2024-10-23T13:30:01.900Z",
        "2024-10-23T15:30:01.123456789Z,   2024-10-23T15:30:01.123456Z",
        "2024-10-23T15:30:01-05:30,        2024-10-23T21:00:01Z",
        "2024-10-23T15:30:01+0200,         2024-10-23T13:30:01Z",
        "2024-10-23T15:30,                 2024-10-23T15:30:00Z"
    })
    void parses_the_shapes_emitters_send(String text, String expected) {
        assertThat(Timestamps.parse(text)).isEqualTo(Instant.parse(expected));
    }

    @Test
    void rejects_what_is_not_a_timestamp() {
        for (String bad : new String[] {
            "yesterday",
            "2024-13-01T00:00:00",
            "2024-02-30T00:00:00",
            "2024-10-23T25:00:00",
            "2024-10-23T15:30:01+99:00"
        }) {
            assertThatThrownBy(() -> Timestamps.parse(bad)).as(bad).isInstanceOf(DateTimeParseException.class);
        }
    }

    @Test
    void the_hand_written_formatter_agrees_with_the_general_one() {
        Random r = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            Instant t = Timestamps.ofMicros(Math.floorMod(r.nextLong(), 253_402_300_800_000_000L));
            String formatted = Timestamps.format(t);
            assertThat(formatted).hasSize(32).endsWith("+00:00");
            assertThat(Timestamps.parse(formatted)).isEqualTo(t);
            assertThat(Timestamps.parseCanonical(formatted)).isEqualTo(t);
        }
        assertThat(Timestamps.format(Instant.parse("2024-10-23T15:30:01.000001Z")))
                .isEqualTo("2024-10-23T15:30:01.000001+00:00");
    }
}
