package io.jobstream.api;

/** A reader could not answer (database down, pool exhausted); the API answers 503. */
public final class ReadException extends RuntimeException {
    public ReadException(String message, Throwable cause) {
        super(message, cause);
    }
}
