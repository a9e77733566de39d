package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The receiver's side of {@link RunModels}: handing over finished jobs never waits for a build, even while one is
 * stuck in its read, and jobs beyond the queue are dropped at once, not queued. (The builds themselves, on real
 * PostgreSQL through a real node, are {@code RunModelsIT}'s.)
 */
class RunModelsTest {
    /** A run of one task on one host; its first read waits for {@link #release}. */
    private static final class SlowReader implements RunReader {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch reading = new CountDownLatch(1);

        @Override
        public void visit(long jobId, int after, Consumer<RunRow> visitor) {
            reading.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (after > 0) return;
            visitor.accept(new RunRow(1, "playbook_on_task_start", "", "t", "play", "task", false, false, 1));
            visitor.accept(new RunRow(2, "runner_on_ok", "h", "t", "", "", false, false, 2));
        }

        @Override
        public Optional<Stats> stats(long jobId) {
            return Optional.empty();
        }
    }

    @Test
    void handing_over_finished_jobs_never_waits_for_a_build_and_drops_what_the_queue_cannot_hold() throws Exception {
        SlowReader reader = new SlowReader();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        JobReader jobs = new JobReader() {
            @Override
            public Optional<JobView> find(long id) {
                return Optional.of(new JobView(
                        id,
                        "j",
                        "p",
                        "successful",
                        false,
                        null,
                        null,
                        null,
                        null,
                        "",
                        2,
                        2,
                        2,
                        true,
                        null,
                        1,
                        1,
                        null,
                        null,
                        "full",
                        0,
                        0,
                        false,
                        ""));
            }

            @Override
            public Page<JobView> list(JobQuery query, Long visibleTo, long offset, int limit, boolean withCount) {
                throw new UnsupportedOperationException();
            }
        };
        try (RunModels models = new RunModels(new RunCache(reader, 1000), jobs, registry, 1000).start()) {
            models.committed(batch(1));
            assertThat(reader.reading.await(10, TimeUnit.SECONDS)).isTrue(); // the builder is stuck on job 1
            List<Long> finished = new ArrayList<>();
            for (long id = 2; id <= 41; id++) finished.add(id);
            long t = System.nanoTime();
            models.committed(batch(finished.stream().mapToLong(Long::longValue).toArray()));
            assertThat(Duration.ofNanos(System.nanoTime() - t)).isLessThan(Duration.ofMillis(100));
            assertThat(count(registry, "busy")).isEqualTo(40 - RunModels.QUEUE);
            reader.release.countDown();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (count(registry, "built") < 1 + RunModels.QUEUE && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(count(registry, "built")).isEqualTo(1 + RunModels.QUEUE);
            assertThat(models.cache().total()).isEqualTo(2L * (1 + RunModels.QUEUE)); // a task and a result each
        }
    }

    private static double count(SimpleMeterRegistry registry, String outcome) {
        var c = registry.find("analysis.prebuilds").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    private static CommittedBatch batch(long... finished) {
        List<JobChange> changes = new ArrayList<>();
        for (long id : finished) changes.add(new JobChange(id, "successful", 2, true));
        return new CommittedBatch(List.of(), changes);
    }
}
