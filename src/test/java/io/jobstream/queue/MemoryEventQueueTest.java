package io.jobstream.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.JobEof;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryEventQueueTest {
    private static Envelope eof(long job) {
        return new Envelope(new JobEof(job, 1), Receipt.NONE);
    }

    @Test
    void a_request_that_does_not_fit_is_refused_whole_and_nothing_is_dropped() {
        MemoryEventQueue q = new MemoryEventQueue(3, 1 << 20);
        assertThat(q.offerAll(List.of(eof(1), eof(2)))).isTrue();
        assertThat(q.offerAll(List.of(eof(3), eof(4)))).isFalse();
        assertThat(q.depth()).isEqualTo(2);
        assertThat(q.offerAll(List.of(eof(3)))).isTrue();
        assertThat(q.depth()).isEqualTo(3);
    }

    @Test
    void drain_takes_what_is_there_in_arrival_order_up_to_max() throws InterruptedException {
        MemoryEventQueue q = new MemoryEventQueue(10, 1 << 20);
        q.offerAll(List.of(eof(1), eof(2), eof(3)));
        List<Envelope> sink = new ArrayList<>();
        assertThat(q.drainTo(sink, 2, Duration.ZERO)).isEqualTo(2);
        assertThat(sink).extracting(e -> e.message().jobId()).containsExactly(1L, 2L);
        assertThat(q.drainTo(sink, 10, Duration.ZERO)).isEqualTo(1);
        assertThat(q.drainTo(sink, 10, Duration.ZERO)).isZero();
    }

    @Test
    void byte_bound_refuses_more_once_the_queue_holds_that_much() {
        MemoryEventQueue q = new MemoryEventQueue(100, 100);
        assertThat(q.offerAll(List.of(eof(1)))).isTrue(); // 64 estimated bytes
        assertThat(q.offerAll(List.of(eof(2)))).isFalse();
    }

    @Test
    void an_empty_queue_takes_one_request_even_when_it_is_bigger_than_the_byte_bound() {
        MemoryEventQueue q = new MemoryEventQueue(100, 100);
        assertThat(q.offerAll(List.of(eof(1), eof(2), eof(3)))).isTrue();
    }
}
