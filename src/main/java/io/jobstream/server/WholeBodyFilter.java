package io.jobstream.server;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * Ends the reading of a request body at its declared {@code Content-Length}, without asking Jetty for the end.
 *
 * <p>Why: Jetty checks {@code http.min-request-rate} at the start of every read of a body — the read that would only
 * find its end included — as bytes received against the time since the first byte was read. A small body that had
 * arrived whole, read by a handler that was then descheduled for a moment (a loaded machine, a GC pause: 40 ms for a
 * 40-byte login form), failed that check: 408, and a 500 on routes that do not expect it (seen in {@code RouteRulesIT}
 * under load). Once {@code Content-Length} bytes are read the client has sent everything and nothing is left to wait
 * for, so the end is answered here. Reads that wait for the client's bytes are checked by Jetty as before, and bodies
 * without a length (chunked) read as before.
 */
final class WholeBodyFilter implements Filter {
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        long length = request.getContentLengthLong();
        if (length > 0 && request instanceof HttpServletRequest http) {
            chain.doFilter(new Declared(http, length), response);
        } else {
            chain.doFilter(request, response);
        }
    }

    /** The request, whose body stream ends after its declared length. */
    private static final class Declared extends HttpServletRequestWrapper {
        private final long length;
        private Body body;

        Declared(HttpServletRequest request, long length) {
            super(request);
            this.length = length;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (body == null) body = new Body(super.getInputStream(), length);
            return body;
        }
    }

    /** At most {@code length} bytes of {@code in}; then -1 without reading {@code in} again. Not thread-safe. */
    static final class Body extends ServletInputStream {
        private final ServletInputStream in;
        private long remaining;

        Body(ServletInputStream in, long length) {
            this.in = in;
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) return -1;
            int b = in.read();
            if (b >= 0) remaining--;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (remaining <= 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) remaining -= n;
            return n;
        }

        @Override
        public int available() throws IOException {
            return remaining <= 0 ? 0 : (int) Math.min(in.available(), remaining);
        }

        @Override
        public boolean isFinished() {
            return remaining <= 0 || in.isFinished();
        }

        @Override
        public boolean isReady() {
            return remaining <= 0 || in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
