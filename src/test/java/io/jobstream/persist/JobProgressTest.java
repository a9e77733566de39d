package io.jobstream.persist;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobProgressTest {
    private static JobProgress.Row row(String status, Integer fc, int stored) {
        return new JobProgress.Row(status, fc, stored, false, false);
    }

    @Test
    void first_events_move_a_pending_job_to_running() {
        var after = JobProgress.apply(row("pending", null, 0), new JobProgress.Delta(3, null, false));
        assertThat(after.status()).isEqualTo("running");
        assertThat(after.storedEvents()).isEqualTo(3);
        assertThat(after.finished()).isFalse();
    }

    @Test
    void events_are_finished_once_final_counter_many_are_stored_in_any_order_of_arrival() {
        var eofFirst = JobProgress.apply(row("running", null, 8), new JobProgress.Delta(0, 10, false));
        assertThat(eofFirst.finished()).isFalse();
        assertThat(eofFirst.status()).isEqualTo("running");
        var rest = JobProgress.apply(eofFirst, new JobProgress.Delta(2, null, false));
        assertThat(rest.finished()).isTrue();
        assertThat(rest.status()).isEqualTo("successful");
    }

    @Test
    void a_job_with_failed_stats_finishes_failed() {
        var after = JobProgress.apply(row("running", null, 4), new JobProgress.Delta(1, 5, true));
        assertThat(after.status()).isEqualTo("failed");
        assertThat(after.failed()).isTrue();
    }

    @Test
    void a_finished_status_is_never_changed_by_late_events() {
        var after = JobProgress.apply(row("canceled", 10, 5), new JobProgress.Delta(5, null, false));
        assertThat(after.status()).isEqualTo("canceled");
        assertThat(after.finished()).isTrue();
    }

    @Test
    void a_launched_job_keeps_running_when_its_events_are_complete_because_its_launcher_decides_the_end() {
        var launched = new JobProgress.Row("running", null, 4, false, false, true);
        var after = JobProgress.apply(launched, new JobProgress.Delta(1, 5, true));
        assertThat(after.finished()).isTrue();
        assertThat(after.status()).isEqualTo("running");
        assertThat(after.launched()).isTrue();
    }

    @Test
    void a_launched_pending_job_still_moves_to_running_on_its_first_events() {
        var launched = new JobProgress.Row("pending", null, 0, false, false, true);
        assertThat(JobProgress.apply(launched, new JobProgress.Delta(2, null, false))
                        .status())
                .isEqualTo("running");
    }
}
