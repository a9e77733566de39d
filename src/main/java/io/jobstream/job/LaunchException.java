package io.jobstream.job;

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
}
