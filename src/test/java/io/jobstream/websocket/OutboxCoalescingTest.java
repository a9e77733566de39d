package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.EventFrame;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** What queues while a flush is being written goes out together, each event still its own frame (issue 15). */
class OutboxCoalescingTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final OutboxBytes budget = new OutboxBytes(1 << 30, 1 << 30, 1 << 30);
    private final OutboxBytes.Account account = budget.open(1);
    private final FlushRecorder sender = new FlushRecorder();
    private final List<Throwable> failures = new ArrayList<>();
    private Outbox outbox;

    /** Records each flush as the outbox handed it over and holds its completion until the test runs it. */
    static final class FlushRecorder implements FrameSender {
        /** Per flush, the frames it carried (a batched array is one frame). */
        final List<List<String>> flushes = new ArrayList<>();

        final ArrayDeque<Runnable> pending = new ArrayDeque<>();
        final ArrayDeque<Consumer<Throwable>> failing = new ArrayDeque<>();

        @Override
        public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
            record(List.of(frame), onSent, onFailed);
        }

        @Override
        public void send(byte[] utf8, Runnable onSent, Consumer<Throwable> onFailed) {
            record(List.of(new String(utf8, StandardCharsets.UTF_8)), onSent, onFailed);
        }

        @Override
        public void sendEvent(EventFrame event, Runnable onSent, Consumer<Throwable> onFailed) {
            record(List.of(event.text()), onSent, onFailed);
        }

        @Override
        public void sendEvents(List<EventFrame> events, Runnable onSent, Consumer<Throwable> onFailed) {
            record(events.stream().map(EventFrame::text).toList(), onSent, onFailed);
        }

        private void record(List<String> frames, Runnable onSent, Consumer<Throwable> onFailed) {
            flushes.add(frames);
            pending.add(onSent);
            failing.add(onFailed);
        }

        void complete() {
            failing.poll();
            pending.poll().run();
        }

        void fail(Throwable cause) {
            pending.poll();
            failing.poll().accept(cause);
        }

        List<String> wire() {
            return flushes.stream().flatMap(List::stream).toList();
        }

        @Override
        public void close(int status, String reason) {}
    }

    private Outbox outbox(int capacity) {
        outbox = new Outbox(
                sender,
                capacity,
                Runnable::run,
                account,
                new WsMetrics(registry),
                Clock.systemUTC(),
                new Outbox.Owner() {
                    @Override
                    public void roomFreed() {
                        outbox.roomAwaited();
                    }

                    @Override
                    public void sendFailed(Throwable cause) {
                        failures.add(cause);
                        outbox.close(); // as the Subscriber does: the connection is broken
                    }
                });
        return outbox;
    }

    private static Outbox.Out event(int counter) {
        return new Outbox.Out(new EventFrame(1, counter, text(counter), 1, 2));
    }

    private static String text(int counter) {
        return "{\"counter\":" + counter + ",\"stdout\":\"é✓ " + "x".repeat(counter % 97) + "\"}";
    }

    private static List<String> texts(int from, int to) {
        return IntStream.rangeClosed(from, to)
                .mapToObj(OutboxCoalescingTest::text)
                .toList();
    }

    @Test
    void events_queued_while_a_flush_is_written_go_out_together_each_its_own_frame_in_order() {
        Outbox outbox = outbox(10_000);
        int events = 1_200;

        outbox.offerEvent(event(1));
        for (int i = 2; i <= events; i++)
            assertThat(outbox.offerEvent(event(i))).isTrue();
        assertThat(sender.flushes)
                .as("one flush in flight; the rest wait for it")
                .hasSize(1);
        assertThat(outbox.queued()).isEqualTo(events - 1);
        while (!sender.pending.isEmpty()) sender.complete();

        assertThat(sender.flushes)
                .extracting(List::size)
                .as("what queued meanwhile, up to a flush's bound")
                .containsExactly(1, Outbox.BATCH_EVENTS, Outbox.BATCH_EVENTS, events - 1 - 2 * Outbox.BATCH_EVENTS);
        assertThat(sender.wire()).containsExactlyElementsOf(texts(1, events));
        assertThat(registry.get("ws.messages.sent").counter().count()).isEqualTo(events);
        assertThat(registry.get("ws.events.written").counter().count()).isEqualTo(events);
        assertThat(outbox.queued()).isZero();
        assertThat(account.held())
                .as("every flush's bytes given back once written")
                .isZero();
    }

    @Test
    void a_reply_ends_the_flush_before_it_and_keeps_its_place() {
        Outbox outbox = outbox(100);
        outbox.offerEvent(event(1));
        outbox.offerEvent(event(2));
        outbox.offerEvent(event(3));
        outbox.offerControl("{\"reply\":1}");
        outbox.offerEvent(event(4));
        while (!sender.pending.isEmpty()) sender.complete();

        assertThat(sender.flushes)
                .containsExactly(
                        List.of(text(1)), List.of(text(2), text(3)), List.of("{\"reply\":1}"), List.of(text(4)));
    }

    @Test
    void a_batching_connection_still_gets_one_array_per_flush() {
        Outbox outbox = outbox(100);
        outbox.batch(true);
        for (int i = 1; i <= 4; i++) outbox.offerEvent(event(i));
        while (!sender.pending.isEmpty()) sender.complete();

        assertThat(sender.flushes)
                .containsExactly(
                        List.of("[" + text(1) + "]"), List.of("[" + text(2) + "," + text(3) + "," + text(4) + "]"));
        assertThat(registry.get("ws.messages.sent").counter().count()).isEqualTo(2);
        assertThat(registry.get("ws.events.written").counter().count()).isEqualTo(4);
    }

    @Test
    void a_flush_that_fails_closes_the_outbox_gives_every_byte_back_and_nothing_more_is_sent() {
        Outbox outbox = outbox(100);
        outbox.offerEvent(event(1));
        sender.complete();
        for (int i = 2; i <= 50; i++) outbox.offerEvent(event(i)); // 2 in flight, 3..50 queued behind it
        sender.complete(); // 3..50 in flight, as one flush
        assertThat(sender.flushes).hasSize(3);
        assertThat(account.held()).isPositive();

        sender.fail(new IOException("connection reset by peer")); // the client went away mid-flush

        assertThat(failures).hasSize(1);
        assertThat(account.held()).isZero();
        assertThat(outbox.queued()).isZero();
        assertThat(outbox.offerEvent(event(51)))
                .as("a closed outbox takes nothing")
                .isFalse();
        assertThat(sender.flushes).hasSize(3);
    }

    @Test
    void sending_events_one_by_one_reports_once_when_all_left_or_once_when_any_failed() {
        List<Runnable> completions = new ArrayList<>();
        List<Consumer<Throwable>> failing = new ArrayList<>();
        FrameSender oneByOne = new FrameSender() {
            @Override
            public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
                completions.add(onSent);
                failing.add(onFailed);
            }

            @Override
            public void close(int status, String reason) {}
        };
        List<EventFrame> events = List.of(event(1).event(), event(2).event(), event(3).event());
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();

        oneByOne.sendEvents(events, sent::incrementAndGet, e -> failed.incrementAndGet());
        completions.get(0).run();
        completions.get(1).run();
        assertThat(sent.get()).isZero();
        completions.get(2).run();
        assertThat(sent.get()).isEqualTo(1);

        completions.clear();
        failing.clear();
        oneByOne.sendEvents(events, sent::incrementAndGet, e -> failed.incrementAndGet());
        completions.get(0).run();
        failing.get(1).accept(new IOException("broken pipe"));
        failing.get(2).accept(new IOException("broken pipe"));
        assertThat(failed.get()).isEqualTo(1);
        assertThat(sent.get()).as("never reports sent after a failure").isEqualTo(1);
    }
}
