package io.jobstream.metrics;

/**
 * A component that can say whether it works: returns a value, never throws (a probe that fails is a result). Called
 * on HTTP threads by {@code /health}, possibly concurrently, so it must be cheap and thread-safe.
 */
@FunctionalInterface
public interface HealthCheck {
    CheckResult check();
}
