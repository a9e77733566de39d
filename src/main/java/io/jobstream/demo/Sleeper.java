package io.jobstream.demo;

import java.time.Duration;

/** Waits; injected so that pacing tests run instantly against a manual clock. */
@FunctionalInterface
interface Sleeper {
    Sleeper REAL = d -> {
        if (!d.isNegative() && !d.isZero()) Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);
    };

    void sleep(Duration duration) throws InterruptedException;
}
