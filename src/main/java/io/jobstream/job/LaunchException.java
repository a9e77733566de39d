package io.jobstream.job;

import io.jobstream.config.Config.JobsConfig;

/** A launch or cancel the launcher refuses; {@code status} is the HTTP answer (400, 404, 405, 413, 429, 503). */
public final class LaunchException extends RuntimeException {
    public final int status;
    /** For 429 and 503: when to try again (the {@code Retry-After} header). */
    public final long retryAfterSeconds;

    public LaunchException(int status, String reason) {
        this(status, reason, 10);
    }

    public LaunchException(int status, String reason, long retryAfterSeconds) {
        super(reason);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The answer to a launch the waiting room has no place for; {@code mine} is the user's {running, pending}. */
    static LaunchException refused(FairSlots.Refusal refusal, int[] mine, JobsConfig config) {
        return switch (refusal) {
            case USER_PENDING ->
                new LaunchException(
                        429,
                        "you have " + mine[1] + " launched jobs waiting and "
                                + mine[0] + " running; wait for one to start (jobs.max-pending-per-user="
                                + config.maxPendingPerUser() + ")");
            case PENDING ->
                new LaunchException(
                        503, "too many launched jobs waiting (jobs.max-pending=" + config.maxPending() + ")");
        };
    }
}
