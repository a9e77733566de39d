package io.jobstream.time;

import java.time.Duration;

/**
 * Waits. Injected next to a {@link java.time.Clock} wherever a loop pauses (retry backoff, pacing, polling), so that
 * tests run on one thread with fake time: a test's sleeper is usually {@code manualClock::advance}.
 */
@FunctionalInterface
public interface Sleeper {
    Sleeper REAL = d -> {
        if (!d.isNegative() && !d.isZero()) Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
    };

    void sleep(Duration duration) throws InterruptedException;
}
