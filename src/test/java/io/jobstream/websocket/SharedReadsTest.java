package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.MemoryEventSource;
import io.jobstream.event.JobEvent;
import io.jobstream.event.StoredEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Shared reads answer exactly what the store would, and only then: whole pages of consecutive counters; a page with a
 * hole, a short page and an expired or evicted run go to the store.
 */
class SharedReadsTest {
    final MemoryEventSource store = new MemoryEventSource();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final AtomicLong now = new AtomicLong();
    final SharedReads reads = new SharedReads(store, 1 << 20, registry, now::get);

    static StoredEvent stored(long job, int counter, int stdoutChars) {
        JobEvent e = new JobEvent(
                job,
                counter,
                "uuid-" + job + "-" + counter,
                "",
                "runner_on_ok",
                "{}",
                "x".repeat(stdoutChars),
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
                Instant.EPOCH,
                false,
                Instant.EPOCH);
        return new StoredEvent(counter, e, Instant.EPOCH);
    }

    void add(long job, int from, int to, int stdoutChars) {
        for (int c = from; c <= to; c++) store.add(stored(job, c, stdoutChars));
    }

    static List<Integer> counters(List<StoredEvent> page) {
        return page.stream().map(s -> s.event().counter()).toList();
    }

    double count(String from) {
        return registry.get("ws.catchup.reads").tag("from", from).counter().count();
    }

    @Test
    void subscribers_reading_the_same_events_read_the_store_once_and_get_what_it_would_answer() {
        add(1, 1, 2000, 10);
        List<StoredEvent> first = reads.eventsFrom(1, 1, 500, 1 << 20);
        assertThat(counters(first)).hasSize(500).startsWith(1).endsWith(500);
        assertThat(store.reads).hasValue(1);
        // nine more subscribers, each a little behind or ahead of the first
        for (int s = 0; s < 9; s++) {
            int from = 1 + s * 7;
            List<StoredEvent> page = reads.eventsFrom(1, from, 400, 1 << 20);
            assertThat(page).isEqualTo(store.eventsFrom(1, from, 400, 1 << 20));
        }
        assertThat(store.reads).as("nine comparison reads, no more").hasValue(1 + 9);
        assertThat(count("shared")).isEqualTo(9);
        // the next page extends the run; a page across both is answered from memory
        reads.eventsFrom(1, 501, 500, 1 << 20);
        int before = store.reads.get();
        assertThat(counters(reads.eventsFrom(1, 300, 500, 1 << 20)))
                .startsWith(300)
                .endsWith(799);
        assertThat(store.reads).hasValue(before);
    }

    @Test
    void a_page_the_run_cannot_fill_comes_from_the_store() {
        add(1, 1, 100, 10);
        reads.eventsFrom(1, 1, 500, 1 << 20); // 100 of 500: the whole job as stored now
        add(1, 101, 150, 10); // committed since
        List<StoredEvent> page = reads.eventsFrom(1, 50, 500, 1 << 20);
        assertThat(counters(page)).startsWith(50).endsWith(150);
        assertThat(count("shared"))
                .as("a short page from memory would say nothing newer is stored")
                .isZero();
    }

    @Test
    void a_page_with_a_hole_is_not_kept_as_the_store_may_fill_the_hole() {
        add(1, 1, 10, 10);
        add(1, 12, 30, 10);
        reads.eventsFrom(1, 1, 20, 1 << 20);
        store.add(stored(1, 11, 10)); // the late event arrives
        assertThat(counters(reads.eventsFrom(1, 5, 10, 1 << 20))).containsExactly(5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        assertThat(count("shared")).isZero();
    }

    @Test
    void small_events_count_their_overhead_against_the_bound() {
        add(1, 1, 1000, 0); // events with no output: the bound must still hold them to about 600 bytes each
        SharedReads small = new SharedReads(store, 60_000, new SimpleMeterRegistry(), now::get);
        long each = SharedReads.EVENT_OVERHEAD + "{}".length();
        small.eventsFrom(1, 1, 500, Long.MAX_VALUE);
        assertThat(small.bytesHeld())
                .as("the newest of 500 events, as many as fit")
                .isLessThanOrEqualTo(60_000);
        assertThat(small.bytesHeld()).isGreaterThan(60_000 - each);
        int before = store.reads.get();
        assertThat(counters(small.eventsFrom(1, 450, 50, Long.MAX_VALUE)))
                .startsWith(450)
                .endsWith(499);
        assertThat(store.reads).as("the newest kept").hasValue(before);
        small.eventsFrom(1, 1, 50, Long.MAX_VALUE);
        assertThat(store.reads).as("the oldest went first").hasValue(before + 1);
    }

    @Test
    void the_byte_bound_cuts_a_page_where_the_store_would() {
        add(1, 1, 100, 1000);
        reads.eventsFrom(1, 1, 100, Long.MAX_VALUE);
        for (long max : new long[] {0, 1, 999, 1000, 1001, 2500, 5000, 1_000_000}) {
            List<StoredEvent> page = reads.eventsFrom(1, 10, 50, max);
            assertThat(counters(page)).as("maxBytes %d", max).isEqualTo(counters(store.eventsFrom(1, 10, 50, max)));
        }
        assertThat(count("shared")).isEqualTo(8);
    }

    @Test
    void runs_expire_and_the_oldest_go_when_the_bytes_are_spent() {
        add(1, 1, 100, 1000);
        add(2, 1, 100, 1000);
        reads.eventsFrom(1, 1, 100, Long.MAX_VALUE);
        now.addAndGet(SharedReads.KEEP_NANOS + 1);
        reads.eventsFrom(1, 1, 10, Long.MAX_VALUE);
        assertThat(count("shared")).as("expired").isZero();

        SharedReads small = new SharedReads(store, 250_000, new SimpleMeterRegistry(), now::get);
        small.eventsFrom(1, 1, 100, Long.MAX_VALUE); // ~160 KB with each event's overhead
        small.eventsFrom(2, 1, 100, Long.MAX_VALUE); // ~160 KB more: job 1's run goes (most of it, then all)
        assertThat(small.bytesHeld()).isLessThanOrEqualTo(250_000);
        int before = store.reads.get();
        small.eventsFrom(2, 5, 10, Long.MAX_VALUE);
        assertThat(store.reads).as("job 2 kept").hasValue(before);
        small.eventsFrom(1, 5, 10, Long.MAX_VALUE);
        assertThat(store.reads).as("job 1 evicted").hasValue(before + 1);
    }
}
