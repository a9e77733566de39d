package io.jobstream.event;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
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
            .optionalStart()
            .appendLiteral('T')
            .optionalEnd()
            .optionalStart()
            .appendLiteral(' ')
            .optionalEnd()
            .append(DateTimeFormatter.ISO_LOCAL_TIME)
            .optionalStart()
            .appendOffset("+HH:MM", "Z")
            .optionalEnd()
            .optionalStart()
            .appendOffset("+HHMM", "Z")
            .optionalEnd()
            .toFormatter()
            .withResolverStyle(ResolverStyle.STRICT); // February 30 is an error, not March 1

    private static final DateTimeFormatter FORMAT = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd'T'HH:mm:ss")
            .appendFraction(ChronoField.MICRO_OF_SECOND, 6, 6, true)
            .appendOffset("+HH:MM", "+00:00")
            .toFormatter()
            .withZone(ZoneOffset.UTC);

    /** 10000-01-01T00:00:00Z: beyond four-digit years the general formatter is used. */
    private static final long MAX_FAST_SECONDS = 253_402_300_800L;

    private Timestamps() {}

    /** Parses an AWX timestamp; throws {@link DateTimeParseException} when it is not one. */
    public static Instant parse(String text) {
        Instant fast = parseCanonical(text);
        if (fast != null) return fast;
        TemporalAccessor t = PARSER.parse(text.trim());
        Instant instant = t.isSupported(ChronoField.OFFSET_SECONDS)
                ? OffsetDateTime.from(t).toInstant()
                : LocalDateTime.from(t).toInstant(ZoneOffset.UTC);
        return instant.truncatedTo(ChronoUnit.MICROS);
    }

    /** Formats as {@code 2024-10-23T15:30:01.123456+00:00}; called once per broadcast event, so done by hand. */
    public static String format(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds < 0 || seconds >= MAX_FAST_SECONDS) return FORMAT.format(instant);
        LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, instant.getNano(), ZoneOffset.UTC);
        char[] c = "0000-00-00T00:00:00.000000+00:00".toCharArray();
        digits(c, 0, t.getYear(), 4);
        digits(c, 5, t.getMonthValue(), 2);
        digits(c, 8, t.getDayOfMonth(), 2);
        digits(c, 11, t.getHour(), 2);
        digits(c, 14, t.getMinute(), 2);
        digits(c, 17, t.getSecond(), 2);
        digits(c, 20, t.getNano() / 1_000, 6);
        return new String(c);
    }

    private static void digits(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    /**
     * The shape nearly every emitter sends, {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}][Z|+HH:MM]}, parsed without the
     * general formatter (which dominated decoding profiles); anything else returns null and takes the slow path.
     */
    static Instant parseCanonical(String s) {
        int n = s.length();
        if (n < 19
                || s.charAt(4) != '-'
                || s.charAt(7) != '-'
                || (s.charAt(10) != 'T' && s.charAt(10) != ' ')
                || s.charAt(13) != ':'
                || s.charAt(16) != ':') {
            return null;
        }
        int year = num(s, 0, 4);
        int month = num(s, 5, 2);
        int day = num(s, 8, 2);
        int hour = num(s, 11, 2);
        int minute = num(s, 14, 2);
        int second = num(s, 17, 2);
        int i = 19;
        int nanos = 0;
        if (i < n && s.charAt(i) == '.') {
            int digits = 0;
            for (i++; i < n && Character.isDigit(s.charAt(i)) && digits < 9; i++, digits++) {
                nanos = nanos * 10 + (s.charAt(i) - '0');
            }
            if (digits == 0) return null;
            for (int k = digits; k < 9; k++) nanos *= 10;
        }
        int offsetSeconds = 0;
        if (i < n) {
            char sign = s.charAt(i);
            if (sign == 'Z' && i == n - 1) {
                i++;
            } else if ((sign == '+' || sign == '-') && n - i == 6 && s.charAt(i + 3) == ':') {
                int oh = num(s, i + 1, 2);
                int om = num(s, i + 4, 2);
                if (oh < 0 || om < 0 || oh > 18 || om > 59) return null;
                offsetSeconds = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
                i = n;
            } else {
                return null;
            }
        }
        if (year < 0
                || month < 1
                || month > 12
                || day < 1
                || day > 31
                || hour < 0
                || hour > 23
                || minute < 0
                || minute > 59
                || second < 0
                || second > 59) {
            return null;
        }
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second, nanos)
                    .toInstant(ZoneOffset.ofTotalSeconds(offsetSeconds))
                    .truncatedTo(ChronoUnit.MICROS);
        } catch (java.time.DateTimeException e) {
            return null; // e.g. February 30: let the general parser report it
        }
    }

    /** The decimal value of {@code width} digits at {@code at}, or -1 when any is not a digit. */
    private static int num(String s, int at, int width) {
        int v = 0;
        for (int i = at; i < at + width; i++) {
            char ch = s.charAt(i);
            if (ch < '0' || ch > '9') return -1;
            v = v * 10 + (ch - '0');
        }
        return v;
    }

    /** Microseconds since the Unix epoch. */
    public static long micros(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
    }

    public static Instant ofMicros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }
}
