package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryEventSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class SubscriberTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final WsMetrics metrics = new WsMetrics(registry);

    /** Keeps sends pending until the test completes them, or completes them inside send() when {@code sync}. */
    static final class FakeSender implements FrameSender {
        final List<String> sent = Collections.synchronizedList(new ArrayList<>());
        final ArrayDeque<Runnable> pending = new ArrayDeque<>();
        final ArrayDeque<Consumer<Throwable>> failures = new ArrayDeque<>();
        boolean sync;
        int depth;
        int maxDepth;
        String closed;

        @Override
        public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
            sent.add(frame);
            if (sync) {
                depth++;
                maxDepth = Math.max(maxDepth, depth);
                onSent.run();
                depth--;
            } else {
                pending.add(onSent);
                failures.add(onFailed);
            }
        }

        @Override
        public void close(int status, String reason) {
            closed = status + " " + reason;
        }

        void completeOne() {
            failures.poll();
            pending.poll().run();
        }
    }

    private Subscriber subscriber(FakeSender sender, int capacity) {
        return subscriber(sender, capacity, Runnable::run);
    }

    private Subscriber subscriber(FrameSender sender, int capacity, java.util.concurrent.Executor executor) {
        return new Subscriber(
                sender,
                Subscriber.Shared.local(
                        new JobFeed.Policy(capacity, capacity, 1000, 5000, 0),
                        executor,
                        new ManualBackground(),
                        new MemoryEventSource(),
                        hub,
                        metrics,
                        java.time.Clock.systemUTC()));
    }

    @Test
    void hands_jetty_one_flush_at_a_time_and_sends_frames_in_order() {
        FakeSender sender = new FakeSender();
        Subscriber subscriber = subscriber(sender, 100);
        int frames = 5;

        for (int i = 1; i <= frames; i++) subscriber.offer("g", Integer.toString(i));
        assertThat(sender.sent).hasSize(1); // replies are flushes of their own; the rest wait for the first
        assertThat(subscriber.queued()).isEqualTo(frames - 1);

        sender.completeOne();
        assertThat(sender.sent).hasSize(2);
        while (!sender.pending.isEmpty()) sender.completeOne();

        assertThat(sender.sent)
                .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, frames)
                        .mapToObj(Integer::toString)
                        .toList());
        assertThat(registry.get("ws.messages.sent").counter().count()).isEqualTo(frames);
    }

    @Test
    void sends_that_complete_synchronously_loop_instead_of_recursing() {
        FakeSender sender = new FakeSender();
        sender.sync = true;
        ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        Subscriber subscriber = subscriber(sender, 50_000, tasks::add);

        for (int i = 0; i < 50_000; i++) subscriber.offer("g", Integer.toString(i));
        assertThat(tasks).hasSize(1); // one drain for the whole backlog
        tasks.poll().run();

        assertThat(sender.sent).hasSize(50_000);
        assertThat(sender.maxDepth).isEqualTo(1);
        assertThat(subscriber.queued()).isZero();
    }

    @Test
    void control_frames_beyond_the_reserve_close_the_connection_as_slow_consumer_and_leave_every_group() {
        FakeSender sender = new FakeSender();
        Subscriber subscriber = subscriber(sender, 3);
        subscriber.replaceGroups(Set.of("jobs-summary"));
        int fits = 1 + 3 + Outbox.CONTROL_RESERVE; // one flush handed to Jetty, the rest queued

        for (int i = 1; i <= fits; i++)
            assertThat(subscriber.offer("jobs-summary", "f" + i)).isTrue();
        assertThat(subscriber.closeReason()).isNull();
        subscriber.offer("jobs-summary", "one too many");

        assertThat(sender.closed).isEqualTo("1013 slow consumer");
        assertThat(subscriber.closeReason()).isEqualTo("slow_consumer");
        assertThat(hub.subscriptions()).isZero();
        assertThat(registry.get("ws.disconnects")
                        .tag("reason", "slow_consumer")
                        .counter()
                        .count())
                .isEqualTo(1);

        sender.completeOne();
        assertThat(sender.sent).as("nothing more is sent after the close").hasSize(1);
    }

    @Test
    void a_failed_send_drops_the_subscriber_from_its_groups() {
        FakeSender sender = new FakeSender();
        Subscriber subscriber = subscriber(sender, 3);
        subscriber.replaceGroups(Set.of("job_events-1"));
        subscriber.offer("job_events-1", "f1");

        sender.failures.poll().accept(new java.io.IOException("broken pipe"));

        assertThat(subscriber.closeReason()).isEqualTo("send_failed");
        assertThat(hub.subscribers("job_events-1")).isZero();
        assertThat(sender.closed).isNull();
    }

    @Test
    void replacing_groups_reports_current_left_and_joined() {
        Subscriber subscriber = subscriber(new FakeSender(), 3);
        subscriber.replaceGroups(Set.of("jobs-summary", "job_events-1"));

        Subscriber.GroupChange change =
                subscriber.replaceGroups(new java.util.LinkedHashSet<>(List.of("jobs-summary", "job_events-2")));

        assertThat(change.current()).containsExactly("jobs-summary", "job_events-2");
        assertThat(change.left()).containsExactly("job_events-1");
        assertThat(change.joined()).containsExactly("job_events-2");
        assertThat(hub.subscribers("job_events-1")).isZero();
        assertThat(hub.subscribers("job_events-2")).isEqualTo(1);
    }

    @Test
    void closing_is_idempotent_and_ends_all_memberships() {
        Subscriber subscriber = subscriber(new FakeSender(), 3);
        subscriber.replaceGroups(Set.of("jobs-summary", "job_events-1"));

        assertThat(subscriber.close("closed")).isTrue();
        assertThat(subscriber.close("closed")).isFalse();

        assertThat(hub.subscriptions()).isZero();
        assertThat(subscriber.replaceGroups(Set.of("job_events-3")).joined()).isEmpty();
        assertThat(registry.get("ws.disconnects")
                        .tag("reason", "closed")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void frames_offered_while_other_threads_complete_sends_all_arrive_once_in_order() throws Exception {
        int frames = 20_000;
        ExecutorService network = Executors.newSingleThreadExecutor();
        ExecutorService senders = Executors.newFixedThreadPool(2);
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        FrameSender async = new FrameSender() {
            @Override
            public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
                received.add(frame);
                if (frame.hashCode() % 2 == 0) onSent.run();
                else network.execute(onSent); // mix both paths
            }

            @Override
            public void close(int status, String reason) {}
        };
        Subscriber subscriber = subscriber(async, frames, senders);

        for (int i = 0; i < frames; i++)
            assertThat(subscriber.offer("g", Integer.toString(i))).isTrue();

        org.awaitility.Awaitility.await().atMost(20, TimeUnit.SECONDS).until(() -> received.size() == frames);
        network.shutdown();
        senders.shutdown();
        for (int i = 0; i < frames; i++) assertThat(received.get(i)).isEqualTo(Integer.toString(i));
    }
}
