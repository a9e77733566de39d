package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class VisibleJobsTest {
    /** Lookups run when the test says, on the test's thread. */
    private final Deque<Runnable> lookups = new ArrayDeque<>();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final WsMetrics metrics = new WsMetrics(registry);
    private final ManualBackground clock = new ManualBackground();
    private final AtomicInteger asked = new AtomicInteger();
    private Set<Long> aliceSees = Set.of(1L);
    private final VisibleJobs visible = new VisibleJobs(
            (user, job) -> {
                asked.incrementAndGet();
                return user == 7 && aliceSees.contains(job);
            },
            lookups::add,
            metrics,
            clock);
    private final List<String> sent = new ArrayList<>();

    private void offer(long user, String frame) {
        visible.deliver(user, frame, () -> sent.add(user + ":" + frame));
    }

    private static String status(long job, String status) {
        return "{\"unified_job_id\":" + job + ",\"status\":\"" + status
                + "\",\"type\":\"job\",\"group_name\":\"jobs\"}";
    }

    @Test
    void issue12_a_user_gets_jobs_messages_of_visible_jobs_only_in_order_with_one_lookup_per_job() {
        offer(7, status(1, "pending"));
        offer(7, status(2, "pending"));
        offer(7, status(1, "running")); // waits behind the first lookup of job 1
        assertThat(sent).isEmpty();
        assertThat(lookups).hasSize(2);
        while (!lookups.isEmpty()) lookups.poll().run();
        assertThat(sent).containsExactly("7:" + status(1, "pending"), "7:" + status(1, "running"));
        offer(7, status(1, "successful"));
        offer(7, status(2, "successful"));
        offer(7, "{\"group_name\":\"jobs\",\"unified_job_id\":1,\"final_counter\":9}");
        assertThat(lookups).isEmpty();
        assertThat(asked).hasValue(2);
        assertThat(sent).hasSize(4).doesNotContain("7:" + status(2, "successful"));
    }

    @Test
    void answers_are_asked_again_after_access_may_have_changed() {
        offer(7, status(2, "running"));
        lookups.poll().run();
        assertThat(sent).isEmpty();
        aliceSees = Set.of(1L, 2L); // shared with her team
        visible.forget();
        offer(7, status(2, "successful"));
        lookups.poll().run();
        assertThat(sent).containsExactly("7:" + status(2, "successful"));
    }

    @Test
    void a_store_that_cannot_answer_drops_the_frames_and_remembers_nothing() {
        VisibleJobs failing = new VisibleJobs(
                (user, job) -> {
                    throw new IllegalStateException("database down");
                },
                Runnable::run,
                metrics,
                clock);
        failing.deliver(7, status(1, "running"), () -> sent.add("no"));
        failing.deliver(7, status(1, "running"), () -> sent.add("no"));
        assertThat(sent).isEmpty();
    }

    @Test
    void dropped_frames_are_counted_by_reason() {
        VisibleJobs failing = new VisibleJobs(
                (user, job) -> {
                    throw new IllegalStateException("database down");
                },
                lookups::add,
                metrics,
                clock);
        failing.deliver(7, status(1, "pending"), () -> sent.add("no"));
        failing.deliver(7, status(1, "running"), () -> sent.add("no")); // waits behind the same lookup
        failing.deliver(7, status(2, "running"), () -> sent.add("no"));
        while (!lookups.isEmpty()) lookups.poll().run();
        clock.advance(10_000);
        failing.deliver(7, status(1, "successful"), () -> sent.add("no")); // nothing remembered: asked again
        lookups.poll().run();

        VisibleJobs stopping = new VisibleJobs(
                (user, job) -> true,
                task -> {
                    throw new RejectedExecutionException("shut down");
                },
                metrics,
                clock);
        stopping.deliver(7, status(1, "running"), () -> sent.add("no"));
        stopping.deliver(8, "{\"group_name\":\"jobs\"}", () -> sent.add("about no job"));

        assertThat(sent).containsExactly("about no job");
        assertThat(dropped("lookup_failed")).isEqualTo(4);
        assertThat(dropped("stopping")).isEqualTo(1);
    }

    private double dropped(String reason) {
        return registry.get(Metrics.WS_JOBS_FRAMES_DROPPED)
                .tag("reason", reason)
                .counter()
                .count();
    }

    @Test
    void the_job_id_is_read_from_either_kind_of_jobs_message() {
        assertThat(VisibleJobs.jobOf(status(42, "running"))).isEqualTo(42);
        assertThat(VisibleJobs.jobOf("{\"group_name\":\"jobs\",\"unified_job_id\":9000000001,\"final_counter\":3}"))
                .isEqualTo(9000000001L);
        assertThat(VisibleJobs.jobOf("{\"group_name\":\"control\"}")).isZero();
    }
}
