package io.jobstream.api;

import java.time.LocalDate;

/**
 * Formats epoch microseconds as the API's times ({@code 2024-05-01T10:00:00.123456Z}, as {@link ApiJson#time})
 * without a {@code DateTimeFormatter}: a timeline writes two times per host and task, 400,000 for a job of 1,000
 * hosts × 200 tasks, and the formatter's cost showed in that response's time. The date part is remembered per day.
 * Not thread-safe: one per response.
 */
final class MicrosTime {
    private static final long MICROS_PER_DAY = 86_400_000_000L;
    private long day = Long.MIN_VALUE;
    private String date;
    private final char[] buf = new char[27];

    String format(long micros) {
        long d = Math.floorDiv(micros, MICROS_PER_DAY);
        long inDay = Math.floorMod(micros, MICROS_PER_DAY);
        if (d != day) {
            day = d;
            date = LocalDate.ofEpochDay(d).toString(); // yyyy-MM-dd for years 0000..9999
        }
        int n = date.length();
        date.getChars(0, n, buf, 0);
        buf[n] = 'T';
        long secs = inDay / 1_000_000;
        two(buf, n + 1, (int) (secs / 3600));
        buf[n + 3] = ':';
        two(buf, n + 4, (int) (secs / 60 % 60));
        buf[n + 6] = ':';
        two(buf, n + 7, (int) (secs % 60));
        buf[n + 9] = '.';
        int frac = (int) (inDay % 1_000_000);
        for (int i = n + 15; i >= n + 10; i--) {
            buf[i] = (char) ('0' + frac % 10);
            frac /= 10;
        }
        buf[n + 16] = 'Z';
        return new String(buf, 0, n + 17);
    }

    private static void two(char[] b, int at, int v) {
        b[at] = (char) ('0' + v / 10);
        b[at + 1] = (char) ('0' + v % 10);
    }
}
