package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The body stream ends at the declared length without asking the underlying stream for its end. */
class WholeBodyFilterTest {
    /** Gives its bytes at most 7 at a time; a read after the last byte fails, as Jetty's rate check did after a pause. */
    private static final class Arrived extends ServletInputStream {
        private final byte[] bytes;
        private int at;
        int reads;

        Arrived(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            reads++;
            if (at == bytes.length) throw new IOException("408: Request content data rate < 1024 B/s");
            int n = Math.min(Math.min(len, 7), bytes.length - at);
            System.arraycopy(bytes, at, b, off, n);
            at += n;
            return n;
        }

        @Override
        public int available() {
            return bytes.length - at;
        }

        @Override
        public boolean isFinished() {
            return at == bytes.length;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {}
    }

    @Test
    void a_body_read_to_its_declared_length_ends_without_asking_for_the_end() throws IOException {
        byte[] form = "username=admin&password=test-admin-password&next=%2F".getBytes(StandardCharsets.UTF_8);
        Arrived in = new Arrived(form);
        WholeBodyFilter.Body body = new WholeBodyFilter.Body(in, form.length);
        assertThat(body.readAllBytes()).isEqualTo(form);
        assertThat(body.read()).isEqualTo(-1);
        assertThat(body.read(new byte[4], 0, 4)).isEqualTo(-1);
        assertThat(body.isFinished()).isTrue();
        assertThat(body.available()).isZero();
        assertThat(in.reads).isEqualTo((form.length + 6) / 7); // never once more for the end
    }

    @Test
    void a_client_that_sends_more_than_it_declared_is_read_only_to_the_declared_length() throws IOException {
        byte[] sent = "0123456789".getBytes(StandardCharsets.UTF_8);
        WholeBodyFilter.Body body = new WholeBodyFilter.Body(new Arrived(sent), 4);
        assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("0123");
    }
}
