package io.jobstream.persist;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.Broadcaster;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.StoredEvent;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The publisher thread: batches reach the broadcast and then the commit listener in the order they were handed over;
 * a full hand-off makes the receiver wait (counted) and loses nothing; close broadcasts what is still waiting; a
 * failing broadcast neither stops the thread nor keeps the listener from hearing of the batch.
 */
class BatchPublisherTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final List<String> seen = new CopyOnWriteArrayList<>();
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean failEvery;

    final Broadcaster broadcaster = new Broadcaster() {
        @Override
        public void publish(CommittedBatch batch) {
            try {
                release.await(10, TimeUnit.SECONDS); // a slow broadcast until the test lets it go
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            seen.add("broadcast " + batch.committed().toEpochMilli());
            if (failEvery) throw new IllegalStateException("broadcast failed (test)");
        }

        @Override
        public void publishStatus(long jobId, String status, Instant finishedOrNull) {}

        @Override
        public void close() {}
    };

    static CommittedBatch batch(long n) {
        return new CommittedBatch(List.<StoredEvent>of(), List.of(), Instant.ofEpochMilli(n));
    }

    BatchPublisher publisher() {
        return BatchPublisher.threaded(
                broadcaster, b -> seen.add("listener " + b.committed().toEpochMilli()), registry);
    }

    @Test
    void batches_are_broadcast_in_order_and_a_full_hand_off_waits_without_losing_any() throws Exception {
        BatchPublisher publisher = publisher();
        publisher.start();
        int total = BatchPublisher.CAPACITY + 5;
        Thread receiver = new Thread(() -> {
            try {
                for (int i = 1; i <= total; i++) publisher.hand(batch(i));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        receiver.start();
        // the broadcast holds one batch, the hand-off CAPACITY more: the receiver waits on the rest
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (registry.counter(Metrics.PERSIST_PUBLISH_WAITS).count() == 0 && System.nanoTime() < deadline)
            Thread.sleep(5);
        assertThat(receiver.isAlive())
                .as("the receiver waits while the hand-off is full")
                .isTrue();
        assertThat(registry.get(Metrics.PERSIST_PUBLISH_PENDING).gauge().value())
                .isEqualTo(BatchPublisher.CAPACITY);
        release.countDown();
        receiver.join(10_000);
        publisher.close(Duration.ofSeconds(10));
        assertThat(publisher.isRunning()).isFalse();
        List<String> expected = new java.util.ArrayList<>();
        for (int i = 1; i <= total; i++) {
            expected.add("broadcast " + i);
            expected.add("listener " + i);
        }
        assertThat(seen).containsExactlyElementsOf(expected);
    }

    @Test
    void close_broadcasts_what_is_still_waiting() throws Exception {
        BatchPublisher publisher = publisher();
        publisher.start();
        for (int i = 1; i <= 3; i++) publisher.hand(batch(i));
        release.countDown();
        publisher.close(Duration.ofSeconds(10));
        assertThat(seen)
                .containsExactly("broadcast 1", "listener 1", "broadcast 2", "listener 2", "broadcast 3", "listener 3");
    }

    @Test
    void a_failing_broadcast_is_logged_and_the_next_batches_still_go_out() throws Exception {
        failEvery = true;
        release.countDown();
        BatchPublisher publisher = publisher();
        publisher.start();
        publisher.hand(batch(1));
        publisher.hand(batch(2));
        publisher.close(Duration.ofSeconds(10));
        assertThat(seen).containsExactly("broadcast 1", "listener 1", "broadcast 2", "listener 2");
    }

    @Test
    void direct_runs_on_the_callers_thread() throws Exception {
        release.countDown();
        BatchPublisher publisher = BatchPublisher.direct(broadcaster, b -> seen.add("listener"), registry);
        assertThat(publisher.isRunning()).isTrue();
        publisher.hand(batch(7));
        assertThat(seen).containsExactly("broadcast 7", "listener");
    }
}
