package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.EventFrame;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link RecentFrames}: runs of consecutive counters, the window, the byte bound, reads within them. */
class RecentFramesTest {
    private final AtomicLong nanos = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    /** Keeping the frames of jobs 1 to 3: a subscriber of each fell behind just now. */
    private RecentFrames recent(long maxBytes) {
        RecentFrames recent = new RecentFrames(maxBytes, registry, nanos::get);
        for (long job = 1; job <= 3; job++) recent.want(job);
        return recent;
    }

    private static EventFrame frame(long job, int counter) {
        // the same length whatever the counter, so that the byte bound counts frames
        return new EventFrame(job, counter, String.format("{\"counter\":%6d,\"stdout\":\"line\"}", counter), 1, 2);
    }

    private static List<EventFrame> frames(long job, int from, int to) {
        List<EventFrame> frames = new ArrayList<>();
        for (int c = from; c <= to; c++) frames.add(frame(job, c));
        return frames;
    }

    private static List<Integer> counters(List<EventFrame> frames) {
        return frames.stream().map(EventFrame::counter).toList();
    }

    @Test
    void a_read_gets_consecutive_frames_from_its_counter_within_limit_and_bytes() {
        RecentFrames recent = recent(1 << 20);
        recent.delivered(frames(1, 1, 100));
        recent.delivered(frames(1, 101, 200)); // across deliveries and the array's growth

        assertThat(counters(recent.from(1, 150, 10, Long.MAX_VALUE))).isEqualTo(range(150, 159));
        assertThat(counters(recent.from(1, 195, 10, Long.MAX_VALUE))).isEqualTo(range(195, 200));
        long two = RecentFrames.cost(frame(1, 150)) * 2;
        assertThat(counters(recent.from(1, 150, 10, two))).isEqualTo(range(150, 151));
        assertThat(counters(recent.from(1, 150, 10, 1))).as("at least one").isEqualTo(range(150, 150));
        assertThat(recent.from(1, 201, 10, Long.MAX_VALUE))
                .as("not delivered yet")
                .isEmpty();
        assertThat(recent.from(1, 0, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(recent.from(2, 150, 10, Long.MAX_VALUE)).as("another job").isEmpty();
        assertThat(registry.get("ws.catchup.reads")
                        .tag("from", "recent")
                        .counter()
                        .count())
                .isEqualTo(4);
    }

    @Test
    void frames_out_of_counter_order_are_kept_by_counter_and_a_read_stops_at_the_first_missing_one() {
        RecentFrames recent = recent(1 << 20);
        recent.delivered(frames(1, 11, 20)); // a later post committed first
        recent.delivered(frames(1, 1, 5));
        assertThat(counters(recent.from(1, 1, 100, Long.MAX_VALUE)))
                .as("6..10 not delivered yet: the store answers from there")
                .isEqualTo(range(1, 5));
        assertThat(recent.from(1, 6, 100, Long.MAX_VALUE)).isEmpty();
        recent.delivered(frames(1, 4, 10)); // 4, 5 again, then 6..10
        assertThat(counters(recent.from(1, 1, 100, Long.MAX_VALUE))).isEqualTo(range(1, 20));
        assertThat(recent.bytesHeld()).isEqualTo(20 * RecentFrames.cost(frame(1, 1)));
        assertThat(registry.get("ws.recent.frames.bytes").gauge().value())
                .isEqualTo(20.0 * RecentFrames.cost(frame(1, 1)));
    }

    @Test
    void a_counter_far_above_the_window_moves_it_and_one_far_below_is_not_kept() {
        RecentFrames recent = recent(Long.MAX_VALUE);
        recent.delivered(frames(1, 1, 10));
        int far = 5 + RecentFrames.MAX_SPAN;
        recent.delivered(List.of(frame(1, far)));
        assertThat(recent.from(1, 1, 100, Long.MAX_VALUE))
                .as("1..5 left the window")
                .isEmpty();
        assertThat(counters(recent.from(1, 6, 100, Long.MAX_VALUE))).isEqualTo(range(6, 10));
        assertThat(counters(recent.from(1, far, 100, Long.MAX_VALUE))).isEqualTo(List.of(far));
        recent.delivered(List.of(frame(1, 2))); // below the window now
        assertThat(recent.from(1, 2, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(recent.bytesHeld()).isEqualTo(6 * RecentFrames.cost(frame(1, 1)));
    }

    @Test
    void replayed_frames_are_not_kept() {
        RecentFrames recent = recent(1 << 20);
        recent.delivered(List.of(new EventFrame(1, 1, "{}", 1, 0)));
        assertThat(recent.from(1, 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(recent.bytesHeld()).isZero();
    }

    @Test
    void only_jobs_with_a_subscriber_behind_are_kept_and_only_while_one_is() {
        RecentFrames recent = new RecentFrames(1 << 20, registry, nanos::get);
        recent.delivered(frames(1, 1, 10)); // everyone keeps up: nothing is kept
        assertThat(recent.from(1, 1, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(recent.bytesHeld()).isZero();

        recent.want(1); // a subscriber overflowed at 11: what follows is kept
        recent.delivered(frames(1, 11, 20));
        recent.delivered(frames(2, 1, 5)); // another job, nobody behind
        assertThat(counters(recent.from(1, 11, 100, Long.MAX_VALUE))).isEqualTo(range(11, 20));
        assertThat(recent.from(2, 1, 100, Long.MAX_VALUE)).isEmpty();

        nanos.addAndGet(RecentFrames.KEEP_NANOS - 1); // its read just now kept the job wanted for another window
        recent.delivered(frames(1, 21, 30));
        nanos.addAndGet(RecentFrames.KEEP_NANOS / 2);
        assertThat(counters(recent.from(1, 21, 100, Long.MAX_VALUE))).isEqualTo(range(21, 30));

        nanos.addAndGet(RecentFrames.KEEP_NANOS + 1); // nobody read or fell behind for a window: no longer kept
        recent.delivered(frames(1, 31, 40));
        assertThat(recent.from(1, 31, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(recent.jobsWanted()).isZero();
        assertThat(recent.jobs()).isZero();
        assertThat(recent.bytesHeld()).isZero();
    }

    @Test
    void frames_leave_after_the_window_and_a_job_without_frames_is_forgotten() {
        RecentFrames recent = recent(1 << 20);
        recent.delivered(frames(1, 1, 10));
        nanos.addAndGet(RecentFrames.KEEP_NANOS / 2);
        recent.delivered(frames(1, 11, 20));
        recent.delivered(frames(2, 1, 5));
        nanos.addAndGet(RecentFrames.KEEP_NANOS / 2 + 1);

        assertThat(recent.from(1, 5, 10, Long.MAX_VALUE)).as("expired").isEmpty();
        assertThat(counters(recent.from(1, 11, 100, Long.MAX_VALUE))).isEqualTo(range(11, 20));
        nanos.addAndGet(RecentFrames.KEEP_NANOS);
        assertThat(recent.from(1, 11, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(recent.jobs()).isZero();
        assertThat(recent.bytesHeld()).isZero();
    }

    @Test
    void over_the_byte_bound_jobs_above_an_equal_share_give_up_their_oldest_frames() {
        long cost = RecentFrames.cost(frame(1, 1));
        RecentFrames recent = recent(cost * 20);
        recent.delivered(frames(2, 1, 5));
        recent.delivered(frames(1, 1, 30));
        assertThat(recent.bytesHeld()).isLessThanOrEqualTo(cost * 20);
        assertThat(counters(recent.from(2, 1, 100, Long.MAX_VALUE)))
                .as("the smaller job keeps its frames")
                .isEqualTo(range(1, 5));
        assertThat(counters(recent.from(1, 16, 100, Long.MAX_VALUE))).isEqualTo(range(16, 30));
        assertThat(recent.from(1, 15, 100, Long.MAX_VALUE)).isEmpty();

        // a newcomer of 10 keeps its equal share (a third: 6), and the job holding the most gives way for it
        recent.delivered(frames(3, 1, 10));
        assertThat(counters(recent.from(3, 5, 100, Long.MAX_VALUE))).isEqualTo(range(5, 10));
        assertThat(recent.from(3, 4, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(counters(recent.from(1, 22, 100, Long.MAX_VALUE))).isEqualTo(range(22, 30));
        assertThat(recent.from(1, 21, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(counters(recent.from(2, 1, 100, Long.MAX_VALUE))).isEqualTo(range(1, 5));
        assertThat(recent.bytesHeld()).isLessThanOrEqualTo(cost * 20);
    }

    @Test
    void one_frame_bigger_than_the_bound_is_not_kept_and_costs_the_others_nothing() {
        long cost = RecentFrames.cost(frame(1, 1));
        RecentFrames recent = recent(cost * 20);
        recent.delivered(frames(2, 1, 5));
        String big = "x".repeat((int) (cost * 20));
        recent.delivered(List.of(new EventFrame(1, 1, big, 1, 2)));
        assertThat(recent.from(1, 1, 1, Long.MAX_VALUE)).isEmpty();
        assertThat(counters(recent.from(2, 1, 100, Long.MAX_VALUE))).isEqualTo(range(1, 5));
        assertThat(recent.jobs()).isEqualTo(1);
    }

    @Test
    void keeping_nothing_keeps_nothing() {
        RecentFrames none = RecentFrames.none();
        none.delivered(frames(1, 1, 10));
        assertThat(none.from(1, 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(none.bytesHeld()).isZero();
    }

    private static List<Integer> range(int from, int to) {
        List<Integer> r = new ArrayList<>();
        for (int c = from; c <= to; c++) r.add(c);
        return r;
    }
}
