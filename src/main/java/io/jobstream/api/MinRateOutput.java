package io.jobstream.api;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A response body that a client must read at a minimum average rate ({@code http.min-response-rate}). Jetty's idle
 * timeout ends a write that makes no progress at all, but a client that takes a few bytes now and then never trips
 * it and so holds a request thread and a page of stdout for as long as it likes. Checked before each write from
 * {@code grace} after the start: a client behind by more than the rate allows gets an {@link IOException} (the
 * download ends, the request thread and its memory are freed). So a response lasts at most its size / rate + grace,
 * plus one blocked write's idle timeout. Not thread-safe: one request thread writes.
 */
final class MinRateOutput extends FilterOutputStream {
    private final long minBytesPerSecond;
    private final long graceNanos;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private long written;

    /** @param minBytesPerSecond 0 = no minimum */
    MinRateOutput(OutputStream out, long minBytesPerSecond, Duration grace, LongSupplier nanoTime) {
        super(out);
        this.minBytesPerSecond = minBytesPerSecond;
        this.graceNanos = grace.toNanos();
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    /** The client fell behind the minimum rate. */
    static final class TooSlow extends IOException {
        TooSlow(String message) {
            super(message);
        }
    }

    @Override
    public void write(int b) throws IOException {
        check();
        out.write(b);
        written++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        check();
        out.write(b, off, len);
        written += len;
    }

    private void check() throws IOException {
        if (minBytesPerSecond <= 0) return;
        long elapsed = nanoTime.getAsLong() - startNanos;
        if (elapsed <= graceNanos) return;
        double due = minBytesPerSecond * (elapsed - graceNanos) / 1e9;
        if (written < due) {
            throw new TooSlow("client reads slower than http.min-response-rate (" + minBytesPerSecond
                    + " bytes/s): " + written + " bytes in " + elapsed / 1_000_000 + " ms");
        }
    }
}
