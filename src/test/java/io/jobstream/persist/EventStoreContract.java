package io.jobstream.persist;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.event.StoredEvent;
import io.jobstream.persist.WriteResult.Outcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What the receiver and the rest of the pipeline rely on from every {@link EventStore}, run once per implementation
 * (memory in {@code MemoryEventStoreContractTest}, PostgreSQL in {@code PostgresEventStoreContractIT}). Backend-only
 * promises (columns intact, partitions, COPY chunks, poison parked) stay in the backend's own tests.
 *
 * <p>A subclass may share one store (one database) between tests: every test writes to jobs of its own.
 */
public abstract class EventStoreContract {
    private static final AtomicLong JOBS = new AtomicLong(100);
    private static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");

    /** The store under test. */
    protected abstract EventStore store();

    /**
     * A second writer over the same data, as another node (or this one after a restart) is: it has seen nothing of
     * what was written, so only the data itself can tell it what is a duplicate.
     */
    protected abstract EventStore anotherWriter();

    protected static long newJob() {
        return JOBS.incrementAndGet();
    }

    protected static JobEvent event(long job, int counter) {
        return event(job, counter, "runner_on_ok", false);
    }

    protected static JobEvent event(long job, int counter, String type, boolean failed) {
        return new JobEvent(
                job,
                counter,
                "uuid-" + job + "-" + counter,
                "",
                type,
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
                failed,
                false,
                CREATED,
                false,
                CREATED);
    }

    @Test
    void new_events_are_stored_in_batch_order_with_distinct_ids_and_one_commit_time() {
        long job = newJob();
        WriteResult r = store().write(List.of(event(job, 1), event(job, 2), event(job, 3)));
        assertThat(r.outcomes()).containsExactly(Outcome.STORED, Outcome.STORED, Outcome.STORED);
        assertThat(r.parkReasons()).containsOnlyNulls();
        assertThat(r.committed().events()).extracting(e -> e.event().counter()).containsExactly(1, 2, 3);
        assertThat(new HashSet<>(
                        r.committed().events().stream().map(StoredEvent::id).toList()))
                .hasSize(3);
        assertThat(r.committed().events())
                .extracting(StoredEvent::modified)
                .containsOnly(r.committed().events().get(0).modified());
        assertThat(r.committed().events().get(0).event()).isEqualTo(event(job, 1));
    }

    @Test
    void events_of_several_jobs_keep_their_order_within_each_job() {
        long a = newJob();
        long b = newJob();
        WriteResult r = store().write(List.of(event(a, 1), event(b, 1), event(a, 2), event(b, 2), event(a, 3)));
        assertThat(r.committed().events())
                .extracting(e -> e.event().jobId() + "/" + e.event().counter())
                .containsExactly(a + "/1", b + "/1", a + "/2", b + "/2", a + "/3");
    }

    @Test
    void an_event_redelivered_in_a_later_batch_is_a_duplicate_and_is_not_committed_again() {
        long job = newJob();
        store().write(List.of(event(job, 1), event(job, 2)));
        WriteResult again = store().write(List.of(event(job, 2), event(job, 3)));
        assertThat(again.outcomes()).containsExactly(Outcome.DUPLICATE, Outcome.STORED);
        assertThat(again.committed().events())
                .extracting(e -> e.event().counter())
                .containsExactly(3);
    }

    @Test
    void a_writer_that_has_seen_nothing_still_finds_the_duplicates_in_the_data() {
        long job = newJob();
        store().write(List.of(event(job, 1), event(job, 2)));
        WriteResult r = anotherWriter().write(List.of(event(job, 2), event(job, 3), event(job, 1)));
        assertThat(r.outcomes()).containsExactly(Outcome.DUPLICATE, Outcome.STORED, Outcome.DUPLICATE);
        assertThat(r.committed().events()).extracting(e -> e.event().counter()).containsExactly(3);
    }

    @Test
    void an_event_repeated_within_one_batch_is_stored_once() {
        long job = newJob();
        WriteResult r = store().write(List.of(event(job, 1), event(job, 1), event(job, 2)));
        assertThat(r.outcomes()).containsExactly(Outcome.STORED, Outcome.DUPLICATE, Outcome.STORED);
        assertThat(r.committed().events()).extracting(e -> e.event().counter()).containsExactly(1, 2);
    }

    @Test
    void a_batch_of_duplicates_only_commits_nothing_and_changes_no_job() {
        long job = newJob();
        store().write(List.of(event(job, 1)));
        WriteResult r = store().write(List.of(event(job, 1)));
        assertThat(r.outcomes()).containsExactly(Outcome.DUPLICATE);
        assertThat(r.committed().events()).isEmpty();
        assertThat(r.committed().jobChanges()).isEmpty();
    }

    @Test
    void the_first_stored_event_moves_a_new_job_to_running() {
        long job = newJob();
        WriteResult r = store().write(List.of(event(job, 1), event(job, 2)));
        assertThat(r.committed().jobChanges()).containsExactly(new JobChange(job, "running", null, false));
        assertThat(store().write(List.of(event(job, 3))).committed().jobChanges())
                .as("already running")
                .isEmpty();
    }

    @Test
    void an_eof_before_the_last_events_finishes_the_job_once_every_counter_is_stored() {
        long job = newJob();
        WriteResult first = store().write(List.of(event(job, 1, "playbook_on_start", false), new JobEof(job, 3)));
        assertThat(first.outcomes()).containsExactly(Outcome.STORED, Outcome.STORED);
        assertThat(first.committed().jobChanges()).containsExactly(new JobChange(job, "running", 3, false));
        WriteResult last = store().write(List.of(event(job, 3, "playbook_on_stats", false), event(job, 2)));
        assertThat(last.committed().jobChanges()).containsExactly(new JobChange(job, "successful", null, true));
    }

    @Test
    void an_eof_after_every_event_finishes_the_job_at_once() {
        long job = newJob();
        store().write(List.of(event(job, 1), event(job, 2)));
        WriteResult r = store().write(List.of(new JobEof(job, 2)));
        assertThat(r.outcomes()).containsExactly(Outcome.STORED);
        assertThat(r.committed().events()).isEmpty();
        assertThat(r.committed().jobChanges()).containsExactly(new JobChange(job, "successful", 2, true));
    }

    @Test
    void a_job_whose_stats_report_failures_finishes_as_failed() {
        long job = newJob();
        WriteResult r =
                store().write(List.of(event(job, 1), event(job, 2, "playbook_on_stats", true), new JobEof(job, 2)));
        assertThat(r.committed().jobChanges()).containsExactly(new JobChange(job, "failed", 2, true));
    }

    @Test
    void an_eof_of_zero_events_finishes_an_empty_job() {
        long job = newJob();
        WriteResult r = store().write(List.of(new JobEof(job, 0)));
        assertThat(r.outcomes()).containsExactly(Outcome.STORED);
        assertThat(r.committed().jobChanges()).containsExactly(new JobChange(job, "successful", 0, true));
    }

    @Test
    void changes_of_a_batch_are_reported_in_job_id_order() {
        long low = newJob();
        long high = newJob();
        List<JobMessage> batch = new ArrayList<>(List.of(event(high, 1), event(low, 1)));
        WriteResult r = store().write(batch);
        assertThat(r.committed().jobChanges()).extracting(JobChange::jobId).containsExactly(low, high);
    }

    @Test
    void an_empty_batch_commits_nothing() {
        WriteResult r = store().write(List.of());
        assertThat(r.outcomes()).isEmpty();
        assertThat(r.committed().events()).isEmpty();
        assertThat(r.committed().jobChanges()).isEmpty();
    }
}
