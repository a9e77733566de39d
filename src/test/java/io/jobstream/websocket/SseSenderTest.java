package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.EventFrame;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event-stream side of the outbox's contract, on a servlet output that is ready only when the test says so. */
class SseSenderTest {
    /** A non-blocking servlet output: each write or flush leaves it not ready until {@link #complete}. */
    static final class SlowOutput extends ServletOutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        int flushes;
        boolean pending;
        boolean fail;

        @Override
        public boolean isReady() {
            return !pending;
        }

        @Override
        public void setWriteListener(WriteListener listener) {}

        @Override
        public void write(int b) {
            written.write(b);
        }

        @Override
        public void write(byte[] b) throws IOException {
            if (fail) throw new IOException("broken pipe");
            written.write(b);
            pending = true;
        }

        @Override
        public void flush() {
            flushes++;
            pending = true;
        }

        String text() {
            return written.toString(StandardCharsets.UTF_8);
        }
    }

    private final SlowOutput out = new SlowOutput();
    private final List<String> done = new ArrayList<>();
    private final SseSender sender = new SseSender(out, 7, 0, done::add);

    private void complete() {
        out.pending = false;
        sender.onWritePossible();
    }

    /** The preamble (retry, comment) written, completed and flushed: the stream is idle. */
    private void settle() {
        for (int i = 0; i < 3; i++) complete();
    }

    private static EventFrame event(int counter) {
        return new EventFrame(7, counter, "{\"counter\":" + counter + "}", 0, 1);
    }

    @Test
    void a_frame_counts_as_sent_only_once_the_output_is_ready_again_and_a_dry_queue_is_flushed() {
        List<Integer> sent = new ArrayList<>();
        settle();
        sender.sendEvent(event(1), () -> sent.add(1), e -> {});
        sender.sendEvent(event(2), () -> sent.add(2), e -> {});
        assertThat(sent).isEmpty();
        complete();
        assertThat(sent).containsExactly(1);
        complete();
        assertThat(sent).containsExactly(1, 2);
        complete(); // the flush after the queue ran dry
        assertThat(out.flushes).isGreaterThanOrEqualTo(2);
        assertThat(out.text())
                .startsWith("retry: ")
                .contains("id: 1\ndata: {\"counter\":1}\n\n")
                .endsWith("id: 2\ndata: {\"counter\":2}\n\n");
        assertThat(done).isEmpty();
    }

    @Test
    void the_stream_ends_after_the_final_counter_whenever_the_summary_comes() {
        complete();
        sender.send("{\"group_name\":\"jobs\",\"unified_job_id\":7,\"final_counter\":2}", () -> {}, e -> {});
        sender.sendEvent(event(1), () -> {}, e -> {});
        for (int i = 0; i < 4; i++) complete();
        assertThat(done).isEmpty();
        sender.sendEvent(event(2), () -> {}, e -> {});
        for (int i = 0; i < 6; i++) complete();
        assertThat(out.text())
                .endsWith("event: end\ndata: {\"group_name\":\"jobs\",\"unified_job_id\":7,\"final_counter\":2}\n\n");
        assertThat(done).containsExactly("end");
        List<String> late = new ArrayList<>();
        sender.sendEvent(event(3), () -> late.add("sent"), e -> late.add("failed"));
        assertThat(late)
                .as("nothing is written after the end, and the outbox is told it left")
                .containsExactly("sent");
    }

    @Test
    void a_resume_from_the_final_counter_ends_at_once_and_a_close_says_where_to_resume() {
        SlowOutput o = new SlowOutput();
        List<String> over = new ArrayList<>();
        SseSender resumed = new SseSender(o, 7, 40, over::add);
        resumed.finalCounter(40);
        for (int i = 0; i < 4; i++) {
            o.pending = false;
            resumed.onWritePossible();
        }
        assertThat(over).containsExactly("end");

        complete();
        sender.sendEvent(event(1), () -> {}, e -> {});
        sender.close(1013, "slow consumer");
        for (int i = 0; i < 5; i++) complete();
        assertThat(out.text())
                .endsWith("event: close\ndata: {\"reason\":\"slow_consumer\",\"last_event_id\":1,\"retry\":2000}\n\n");
        assertThat(done).containsExactly("slow_consumer");
    }

    @Test
    void a_broken_connection_fails_what_is_pending_once_and_ends_the_stream() {
        complete();
        List<String> outcome = new ArrayList<>();
        sender.sendEvent(event(1), () -> outcome.add("sent 1"), e -> outcome.add("failed 1"));
        sender.sendEvent(event(2), () -> outcome.add("sent 2"), e -> outcome.add("failed 2"));
        sender.onError(new IOException("reset"));
        sender.onError(new IOException("again"));
        assertThat(outcome).containsExactly("failed 1", "failed 2");
        assertThat(done).containsExactly("gone");
    }

    @Test
    void heartbeats_go_out_only_while_the_stream_is_idle() {
        settle();
        sender.heartbeat(); // the preamble was written since the last tick
        sender.heartbeat();
        assertThat(out.text()).endsWith(":\n\n");
        int before = out.text().length();
        sender.heartbeat(); // the heartbeat is still in flight: nothing more
        assertThat(out.text()).hasSize(before);
    }

    @Test
    void the_wire_format_keeps_every_message_on_data_lines() {
        assertThat(new String(
                        SseFrames.data(new byte[0], "a\nb\r\nc".getBytes(StandardCharsets.UTF_8)),
                        StandardCharsets.UTF_8))
                .isEqualTo("data: a\ndata: b\ndata: c\n\n");
        assertThat(SseFrames.finalCounterOf("{\"final_counter\":12}")).isEqualTo(12);
        assertThat(SseFrames.finalCounterOf("{\"status\":\"running\"}")).isEqualTo(-1);
        assertThat(SseFrames.finalCounterOf("{\"final_counter\":99999999999}")).isEqualTo(-1);
        assertThat(SseFrames.jobOf("{\"unified_job_id\":42,\"status\":\"running\"}"))
                .isEqualTo(42);
        assertThat(SseFrames.jobOf("{\"status\":\"running\"}")).isZero();
    }
}
