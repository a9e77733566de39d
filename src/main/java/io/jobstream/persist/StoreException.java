package io.jobstream.persist;

/**
 * A store failure that says what kind it is, so that intake can tell emitters why it refuses: {@link #tag} is a
 * bounded metric tag, {@link #reason} a sentence for people that holds no event content and no file path.
 * {@link #cannotWrite} is true when the database is up but refuses writes (disk full, quota, read-only): waiting in
 * the queue cannot help until an operator acts, so intake refuses at once instead of buffering.
 */
public class StoreException extends RuntimeException {
    private final String tag;
    private final String reason;
    private final boolean cannotWrite;

    public StoreException(String tag, String reason, boolean cannotWrite, Throwable cause) {
        super(reason, cause);
        this.tag = tag;
        this.reason = reason;
        this.cannotWrite = cannotWrite;
    }

    public String tag() {
        return tag;
    }

    public String reason() {
        return reason;
    }

    public boolean cannotWrite() {
        return cannotWrite;
    }
}
