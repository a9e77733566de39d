package io.jobstream.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What intake and the receiver rely on from every {@link EventQueue}, run once per implementation (memory in
 * {@code MemoryEventQueueContractTest}, the Redis stream in {@code RedisEventQueueContractIT}): arrival order, the
 * bound and its overflow rule (a whole request refused, nothing accepted dropped or trimmed), room given back once the
 * receiver reported, an acknowledged message never handed out again, an idempotent close. Backend-only promises
 * (claims from dead nodes, dead letters, outages) stay in the backend's own tests.
 */
public abstract class EventQueueContract {
    private static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");
    private final List<EventQueue> opened = new CopyOnWriteArrayList<>();

    /** A new, empty queue holding at most {@code capacity} messages. */
    protected abstract EventQueue newQueue(int capacity);

    /**
     * The same queue as the receiver sees it after its node restarted: a durable queue's new instance over the same
     * data (the old one is left as a dead node would leave it); the memory queue, whose data is its heap, itself.
     */
    protected abstract EventQueue reopen(EventQueue queue);

    protected EventQueue queue(int capacity) {
        return track(newQueue(capacity));
    }

    protected EventQueue track(EventQueue q) {
        opened.add(q);
        return q;
    }

    @AfterEach
    void closeQueues() {
        opened.forEach(EventQueue::close);
    }

    static JobEvent event(long job, int counter) {
        return new JobEvent(
                job,
                counter,
                "uuid-" + job + "-" + counter,
                "",
                "runner_on_ok",
                "{}",
                "line " + counter,
                counter - 1,
                counter,
                0,
                "host",
                "pb.yml",
                "play",
                "",
                "task",
                false,
                false,
                CREATED,
                false,
                CREATED);
    }

    static List<Envelope> request(JobMessage... messages) {
        List<Envelope> out = new ArrayList<>();
        for (JobMessage m : messages) out.add(new Envelope(m, Receipt.NONE));
        return out;
    }

    static String name(Envelope e) {
        return e.message() instanceof JobEvent ev
                ? ev.jobId() + "/" + ev.counter()
                : e.message().jobId() + "/eof";
    }

    /** Drains once, as the receiver does, with a short wait. */
    static List<Envelope> drain(EventQueue q, int max) throws InterruptedException {
        List<Envelope> sink = new ArrayList<>();
        q.drainTo(sink, max, Duration.ofMillis(50));
        return sink;
    }

    /** Reports every message stored, as the receiver does after the commit. */
    static void report(List<Envelope> batch) {
        batch.forEach(e -> e.receipt().stored());
    }

    @Test
    void messages_come_out_in_arrival_order_across_requests_and_jobs() throws Exception {
        EventQueue q = queue(100);
        assertThat(q.offerAll(request(event(1, 1), event(2, 1), event(1, 2)))).isTrue();
        assertThat(q.offerAll(request(event(2, 2), new JobEof(1, 2), event(1, 3))))
                .isTrue();
        assertThat(drain(q, 100))
                .extracting(EventQueueContract::name)
                .containsExactly("1/1", "2/1", "1/2", "2/2", "1/eof", "1/3");
    }

    @Test
    void requests_from_many_intake_threads_are_all_kept_and_each_jobs_order_holds() throws Exception {
        EventQueue q = queue(10_000);
        int jobs = 4;
        int requests = 50;
        List<CompletableFuture<Void>> producers = new ArrayList<>();
        for (long job = 1; job <= jobs; job++) {
            long j = job;
            producers.add(CompletableFuture.runAsync(
                    () -> { // one emitter per job, as the plugin is
                        for (int r = 0; r < requests; r++) {
                            assertThat(q.offerAll(request(event(j, 2 * r + 1), event(j, 2 * r + 2))))
                                    .isTrue();
                        }
                    }));
        }
        CompletableFuture.allOf(producers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        List<Envelope> all = new ArrayList<>();
        for (int i = 0; i < 100 && all.size() < jobs * requests * 2; i++) {
            List<Envelope> batch = drain(q, 1_000);
            report(batch);
            all.addAll(batch);
        }
        for (long job = 1; job <= jobs; job++) {
            long j = job;
            assertThat(all.stream().filter(e -> e.message().jobId() == j).map(e -> ((JobEvent) e.message()).counter()))
                    .as("job %d", j)
                    .isSorted()
                    .hasSize(requests * 2);
        }
    }

    @Test
    void a_message_keeps_its_content_through_the_queue() throws Exception {
        EventQueue q = queue(10);
        q.offerAll(request(event(7, 1), new JobEof(7, 1)));
        assertThat(drain(q, 10)).extracting(Envelope::message).containsExactly(event(7, 1), new JobEof(7, 1));
    }

    @Test
    void a_drain_takes_at_most_max_and_the_next_drain_the_rest_in_order() throws Exception {
        EventQueue q = queue(100);
        q.offerAll(request(event(1, 1), event(1, 2), event(1, 3), event(1, 4), event(1, 5)));
        List<Envelope> first = drain(q, 2);
        assertThat(first).extracting(EventQueueContract::name).containsExactly("1/1", "1/2");
        report(first);
        assertThat(drain(q, 100)).extracting(EventQueueContract::name).containsExactly("1/3", "1/4", "1/5");
    }

    @Test
    void a_drain_of_an_empty_queue_returns_nothing_once_its_wait_is_over() throws Exception {
        EventQueue q = queue(10);
        List<Envelope> sink = new ArrayList<>();
        assertThat(q.drainTo(sink, 10, Duration.ofMillis(20))).isZero();
        assertThat(sink).isEmpty();
    }

    @Test
    void a_waiting_drain_returns_as_soon_as_a_request_arrives() throws Exception {
        EventQueue q = queue(10);
        CompletableFuture<List<Envelope>> waiting = CompletableFuture.supplyAsync(() -> {
            List<Envelope> sink = new ArrayList<>();
            try {
                // loops for the Redis queue, whose first drains may look at pending and claimable entries first
                for (int i = 0; i < 10 && sink.isEmpty(); i++) q.drainTo(sink, 10, Duration.ofSeconds(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return sink;
        });
        assertThat(q.offerAll(request(event(3, 1)))).isTrue();
        assertThat(waiting.get(5, TimeUnit.SECONDS))
                .extracting(EventQueueContract::name)
                .containsExactly("3/1");
    }

    @Test
    void a_request_that_does_not_fit_is_refused_whole_and_what_was_accepted_stays() throws Exception {
        EventQueue q = queue(3);
        assertThat(q.offerAll(request(event(1, 1), event(1, 2)))).isTrue();
        assertThat(q.offerAll(request(event(1, 3), event(1, 4))))
                .as("2 + 2 > 3")
                .isFalse();
        assertThat(q.offerAll(request(event(1, 3))))
                .as("what fits is still taken")
                .isTrue();
        assertThat(q.offerAll(request(event(1, 4)))).as("full").isFalse();
        assertThat(drain(q, 100)).extracting(EventQueueContract::name).containsExactly("1/1", "1/2", "1/3");
    }

    @Test
    void a_refused_request_completes_none_of_its_receipts() {
        EventQueue q = queue(1);
        List<String> fates = new CopyOnWriteArrayList<>();
        Receipt receipt = new Receipt() {
            @Override
            public void stored() {
                fates.add("stored");
            }

            @Override
            public void duplicate() {
                fates.add("duplicate");
            }

            @Override
            public void failed(String reason) {
                fates.add("failed");
            }
        };
        assertThat(q.offerAll(List.of(new Envelope(event(1, 1), receipt), new Envelope(event(1, 2), receipt))))
                .isFalse();
        assertThat(fates).isEmpty();
    }

    @Test
    void room_comes_back_once_the_receiver_has_reported_what_it_drained() throws Exception {
        EventQueue q = queue(2);
        assertThat(q.offerAll(request(event(1, 1), event(1, 2)))).isTrue();
        report(drain(q, 10));
        drain(q, 10); // a durable queue acknowledges reported messages at the next drain
        assertThat(q.offerAll(request(event(1, 3), event(1, 4)))).isTrue();
        assertThat(q.capacity()).isEqualTo(2);
    }

    @Test
    void an_empty_request_is_accepted_and_adds_nothing() throws Exception {
        EventQueue q = queue(1);
        assertThat(q.offerAll(List.of())).isTrue();
        assertThat(drain(q, 10)).isEmpty();
        assertThat(q.depth()).isZero();
    }

    @Test
    void a_reported_message_is_never_handed_out_again_even_after_a_restart() throws Exception {
        EventQueue q = queue(10);
        q.offerAll(request(event(4, 1), event(4, 2)));
        report(drain(q, 10));
        drain(q, 10);
        q.close();
        EventQueue again = reopen(q);
        again.offerAll(request(event(4, 3)));
        List<Envelope> next = new ArrayList<>();
        for (int i = 0; i < 3 && next.isEmpty(); i++) next = drain(again, 10);
        assertThat(next).extracting(EventQueueContract::name).containsExactly("4/3");
    }

    @Test
    void depth_is_zero_once_everything_drained_was_reported() throws Exception {
        EventQueue q = queue(10);
        q.offerAll(request(event(5, 1), event(5, 2), event(5, 3)));
        report(drain(q, 10));
        assertThat(q.depth()).isZero();
    }

    @Test
    void close_is_idempotent() {
        EventQueue q = queue(10);
        q.offerAll(request(event(6, 1)));
        q.close();
        q.close();
    }
}
