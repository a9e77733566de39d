package io.jobstream.time;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A clock for measuring spans (batch durations, "every N seconds" checks) that never steps: it reads
 * {@link System#nanoTime} from an anchor taken at construction. The wall clock can jump (NTP, a VM resumed), and a
 * jump would show as a false spike in a duration metric that operators and the lag diagnosis read. Its instants are
 * only good for differences: never store them or show them as times of day.
 */
public final class MonotonicClock extends Clock {
    private final Instant anchor = Instant.now();
    private final long anchorNanos = System.nanoTime();

    @Override
    public Instant instant() {
        return anchor.plusNanos(System.nanoTime() - anchorNanos);
    }

    @Override
    public long millis() {
        return instant().toEpochMilli();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a span clock has no time zone");
    }
}
