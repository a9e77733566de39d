package io.jobstream.persist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.broadcast.Broadcaster;
import io.jobstream.config.Config.PersistConfig;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.queue.Receipt;
import io.jobstream.testing.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The receiver loop on the test's own thread ({@link Receiver#drainOnce}), with an in-memory store and fake time. */
class ReceiverTest {
    final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    final List<Duration> pauses = new ArrayList<>();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final MemoryEventQueue queue = new MemoryEventQueue(100, 1 << 20);
    final List<CommittedBatch> published = new CopyOnWriteArrayList<>();
    final List<String> fates = new CopyOnWriteArrayList<>();
    MemoryEventStore store = new MemoryEventStore(clock);
    Broadcaster broadcaster = new Broadcaster() {
        @Override
        public void publish(CommittedBatch batch) {
            published.add(batch);
        }

        @Override
        public void publishStatus(long jobId, String status, java.time.Instant finishedOrNull) {}

        @Override
        public void close() {}
    };

    Receiver receiver(int maxBatch) {
        return new Receiver(
                queue, store, broadcaster, new PersistConfig(maxBatch, Duration.ofSeconds(1)), registry, clock, d -> {
                    pauses.add(d);
                    clock.advance(d);
                });
    }

    static JobEvent event(long job, int counter) {
        return EventStoreContract.event(job, counter);
    }

    Envelope envelope(JobMessage m) {
        String name = m instanceof JobEvent e ? m.jobId() + "/" + e.counter() : m.jobId() + "/eof";
        return new Envelope(m, new Receipt() {
            @Override
            public void stored() {
                fates.add(name + " stored");
            }

            @Override
            public void duplicate() {
                fates.add(name + " duplicate");
            }

            @Override
            public void failed(String reason) {
                fates.add(name + " failed: " + reason);
            }
        });
    }

    void offer(JobMessage... messages) {
        List<Envelope> request = new ArrayList<>();
        for (JobMessage m : messages) request.add(envelope(m));
        assertThat(queue.offerAll(request)).isTrue();
    }

    @Test
    void a_batch_is_stored_then_every_receipt_reported_then_the_commit_broadcast() throws Exception {
        Receiver r = receiver(100);
        offer(event(1, 1), event(1, 2), new JobEof(1, 2));
        assertThat(r.drainOnce(new ArrayList<>())).isEqualTo(3);
        assertThat(fates).containsExactly("1/1 stored", "1/2 stored", "1/eof stored");
        assertThat(store.events(1)).hasSize(2);
        assertThat(published).hasSize(1);
        assertThat(published.get(0).events())
                .extracting(e -> e.event().counter())
                .containsExactly(1, 2);
        // issue 16: the EOF is a job end, not a stored row
        assertThat(registry.counter(Metrics.EVENTS_STORED).count()).isEqualTo(2);
        assertThat(registry.counter(Metrics.EOFS_STORED).count()).isEqualTo(1);
    }

    @Test
    void a_batch_takes_what_is_queued_up_to_the_maximum_and_leaves_the_rest_for_the_next() throws Exception {
        Receiver r = receiver(2);
        offer(event(1, 1), event(1, 2), event(1, 3));
        assertThat(r.drainOnce(new ArrayList<>())).isEqualTo(2);
        assertThat(r.drainOnce(new ArrayList<>())).isEqualTo(1);
        assertThat(published).extracting(b -> b.events().size()).containsExactly(2, 1);
        assertThat(store.events(1)).extracting(e -> e.event().counter()).containsExactly(1, 2, 3);
    }

    @Test
    void redelivered_events_are_reported_as_duplicates_and_not_broadcast_again() throws Exception {
        Receiver r = receiver(100);
        offer(event(1, 1));
        r.drainOnce(new ArrayList<>());
        offer(event(1, 1), event(1, 2));
        r.drainOnce(new ArrayList<>());
        assertThat(fates).containsExactly("1/1 stored", "1/1 duplicate", "1/2 stored");
        assertThat(published.get(1).events())
                .extracting(e -> e.event().counter())
                .containsExactly(2);
        assertThat(registry.counter(Metrics.EVENTS_DUPLICATE).count()).isEqualTo(1);
    }

    @Test
    void a_poison_message_is_reported_failed_and_its_neighbours_stored() throws Exception {
        store = new MemoryEventStore(clock, m -> m instanceof JobEvent e && e.counter() == 2);
        Receiver r = receiver(100);
        offer(event(1, 1), event(1, 2), event(1, 3));
        r.drainOnce(new ArrayList<>());
        assertThat(fates).containsExactly("1/1 stored", "1/2 failed: could not be stored: poison (test)", "1/3 stored");
        assertThat(registry.counter(Metrics.EVENTS_PARKED).count()).isEqualTo(1);
    }

    @Test
    void a_parked_eof_counts_as_a_parked_job_end_not_as_a_parked_event() throws Exception {
        store = new MemoryEventStore(clock, m -> m instanceof JobEof);
        Receiver r = receiver(100);
        offer(event(1, 1), new JobEof(1, 1));
        r.drainOnce(new ArrayList<>());
        assertThat(registry.counter(Metrics.EVENTS_STORED).count()).isEqualTo(1);
        assertThat(registry.counter(Metrics.EVENTS_PARKED).count()).isZero();
        assertThat(registry.counter(Metrics.EOFS_PARKED).count()).isEqualTo(1);
        assertThat(registry.counter(Metrics.EOFS_STORED).count()).isZero();
    }

    @Test
    void a_failing_store_is_retried_with_the_same_batch_and_a_doubling_capped_pause() throws Exception {
        Receiver r = receiver(100);
        store.failNextWrites(6);
        offer(event(1, 1), event(1, 2));
        r.drainOnce(new ArrayList<>());
        assertThat(pauses)
                .containsExactly(
                        Duration.ofMillis(100),
                        Duration.ofMillis(200),
                        Duration.ofMillis(400),
                        Duration.ofMillis(800),
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1));
        assertThat(fates).as("nothing reported before the commit").containsExactly("1/1 stored", "1/2 stored");
        assertThat(store.events(1)).extracting(e -> e.event().counter()).containsExactly(1, 2);
        assertThat(registry.counter(Metrics.PERSIST_FAILURES).count()).isEqualTo(6);
        assertThat(registry.timer(Metrics.PERSIST_BATCH_DURATION).totalTime(TimeUnit.MILLISECONDS))
                .as("the batch's duration includes its retries, on the injected clock")
                .isEqualTo(3500);
    }

    @Test
    void a_failing_broadcast_neither_loses_the_receipts_nor_stops_the_loop() throws Exception {
        broadcaster = new Broadcaster() {
            @Override
            public void publish(CommittedBatch batch) {
                throw new IllegalStateException("relay down (test)");
            }

            @Override
            public void publishStatus(long jobId, String status, java.time.Instant finishedOrNull) {}

            @Override
            public void close() {}
        };
        Receiver r = receiver(100);
        offer(event(1, 1));
        r.drainOnce(new ArrayList<>());
        offer(event(1, 2));
        r.drainOnce(new ArrayList<>());
        assertThat(fates).containsExactly("1/1 stored", "1/2 stored");
    }

    @Test
    void an_idle_turn_handles_nothing() throws Exception {
        assertThat(receiver(100).drainOnce(new ArrayList<>())).isZero();
        assertThat(published).isEmpty();
    }

    @Test
    void close_finishes_what_is_queued_before_stopping_and_is_idempotent() {
        Receiver r = receiver(1);
        offer(event(1, 1), event(1, 2), event(1, 3));
        r.start();
        r.close(Duration.ofSeconds(10));
        assertThat(r.isRunning()).isFalse();
        assertThat(fates).containsExactly("1/1 stored", "1/2 stored", "1/3 stored");
        r.close(Duration.ofSeconds(10));
        assertThat(r.isRunning()).isFalse();
    }

    @Test
    void the_running_loop_survives_a_store_outage_and_delivers_in_order() {
        Receiver r = receiver(100);
        store.failNextWrites(3);
        r.start();
        try {
            offer(event(1, 1));
            offer(event(1, 2));
            await().atMost(Duration.ofSeconds(10)).until(() -> fates.size() == 2);
            assertThat(fates).containsExactly("1/1 stored", "1/2 stored");
        } finally {
            r.close(Duration.ofSeconds(10));
        }
    }
}
