package io.jobstream.api;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A response body that a client must read at a minimum average rate ({@code http.min-response-rate}). Jetty's idle
 * timeout ends a write that makes no progress at all, but a client that takes a few bytes now and then never trips
 * it and so holds a request thread and a page of stdout for as long as it likes. From {@code grace} after the start,
 * a client behind the rate is cut off: checked before each write (an {@link IOException}), and by a watchdog (see
 * {@link #behind()}) for a write that stays blocked because the socket's buffers are full. So a response lasts at
 * most its size / rate + grace (+ the watchdog's period). The request thread writes; the watchdog only reads.
 */
final class MinRateOutput extends FilterOutputStream {
    private final long minBytesPerSecond;
    private final long graceNanos;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private volatile long written; // one writer (the request thread); the watchdog reads it
    private volatile boolean cut;

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
        written = written + 1;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        check();
        out.write(b, off, len);
        written += len;
    }

    private void check() throws IOException {
        if (behind()) {
            cut = true;
            throw new TooSlow("client reads slower than http.min-response-rate (" + minBytesPerSecond + " bytes/s): "
                    + written + " bytes in " + (nanoTime.getAsLong() - startNanos) / 1_000_000 + " ms");
        }
    }

    /** True once the client has read less than the rate asks for since the grace ended. Thread-safe. */
    boolean behind() {
        if (minBytesPerSecond <= 0) return false;
        long elapsed = nanoTime.getAsLong() - startNanos;
        if (elapsed <= graceNanos) return false;
        return written < minBytesPerSecond * (double) (elapsed - graceNanos) / 1e9;
    }

    /** The watchdog found the client behind and is closing its connection. */
    void cut() {
        cut = true;
    }

    /** Whether this response was cut off for being read too slowly. */
    boolean wasCut() {
        return cut;
    }
}
