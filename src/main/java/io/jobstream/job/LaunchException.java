package io.jobstream.job;

/** A launch or cancel the launcher refuses; {@code status} is the HTTP answer (400, 404, 405, 503). */
public final class LaunchException extends RuntimeException {
    public final int status;

    public LaunchException(int status, String reason) {
        super(reason);
        this.status = status;
    }
}
