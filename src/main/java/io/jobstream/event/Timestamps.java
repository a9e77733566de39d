package io.jobstream.event;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAccessor;

/**
 * AWX's timestamp rules: accept ISO-8601 with {@code T} or a space, optional fraction, optional {@code Z} or
 * {@code ±HH:MM}; a naive value is UTC. Everything is kept at microsecond precision, as PostgreSQL stores it,
 * and written back as {@code 2024-10-23T15:30:01.123456+00:00}.
 */
public final class Timestamps {
    private static final DateTimeFormatter PARSER = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart().appendLiteral('T').optionalEnd()
            .optionalStart().appendLiteral(' ').optionalEnd()
            .append(DateTimeFormatter.ISO_LOCAL_TIME)
            .optionalStart().appendOffset("+HH:MM", "Z").optionalEnd()
            .optionalStart().appendOffset("+HHMM", "Z").optionalEnd()
            .toFormatter();

    private static final DateTimeFormatter FORMAT = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd'T'HH:mm:ss")
            .appendFraction(ChronoField.MICRO_OF_SECOND, 6, 6, true)
            .appendOffset("+HH:MM", "+00:00")
            .toFormatter()
            .withZone(ZoneOffset.UTC);

    private Timestamps() {}

    /** Parses an AWX timestamp; throws {@link DateTimeParseException} when it is not one. */
    public static Instant parse(String text) {
        TemporalAccessor t = PARSER.parse(text.trim());
        Instant instant = t.isSupported(ChronoField.OFFSET_SECONDS)
                ? OffsetDateTime.from(t).toInstant()
                : LocalDateTime.from(t).toInstant(ZoneOffset.UTC);
        return instant.truncatedTo(ChronoUnit.MICROS);
    }

    public static String format(Instant instant) {
        return FORMAT.format(instant);
    }

    /** Microseconds since the Unix epoch. */
    public static long micros(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
    }

    public static Instant ofMicros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }
}
