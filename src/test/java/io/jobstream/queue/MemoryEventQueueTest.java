package io.jobstream.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.JobEof;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The memory queue's byte bound; what every queue promises is in {@link MemoryEventQueueContractTest}. */
class MemoryEventQueueTest {
    private static Envelope eof(long job) {
        return new Envelope(new JobEof(job, 1), Receipt.NONE);
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
