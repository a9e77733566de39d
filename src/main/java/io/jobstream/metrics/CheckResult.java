package io.jobstream.metrics;

import java.util.Objects;

/**
 * What a component's {@code check()} found (Zipkin's CheckResult): {@link #OK}, or a fixed state word such as
 * "unreachable", "stopped" or "full" with, optionally, the cause. {@code /health} is open to anyone, so it shows the
 * state only; the detail (an exception's text, which can name hosts, users or SQL) is for the node's log.
 */
public record CheckResult(String state, String detail) {
    public static final CheckResult OK = new CheckResult("ok", null);

    public CheckResult {
        Objects.requireNonNull(state, "state");
    }

    /** A failed check with a state word and no detail worth logging. */
    public static CheckResult failed(String state) {
        return new CheckResult(state, null);
    }

    /** A failed check with a state word and the cause, logged by whoever aggregates the checks. */
    public static CheckResult failed(String state, String detail) {
        return new CheckResult(state, detail);
    }

    public boolean ok() {
        return state.equals(OK.state);
    }
}
