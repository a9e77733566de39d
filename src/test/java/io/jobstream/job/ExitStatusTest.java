package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExitStatusTest {
    @Test
    void exit_code_zero_is_successful() {
        assertThat(ExitStatus.of(0, false)).isEqualTo("successful");
    }

    @Test
    void failed_or_unreachable_hosts_make_a_failed_job() {
        assertThat(ExitStatus.of(2, false)).isEqualTo("failed");
        assertThat(ExitStatus.of(4, false)).isEqualTo("failed");
        assertThat(ExitStatus.of(6, false)).isEqualTo("failed");
        assertThat(ExitStatus.of(8, false)).isEqualTo("failed");
    }

    @Test
    void any_other_exit_is_an_error_because_the_playbook_did_not_run_to_its_end() {
        for (int code : new int[] {1, 3, 5, 99, 250, 255, 137, -1}) {
            assertThat(ExitStatus.of(code, false)).as("exit %d", code).isEqualTo("error");
        }
    }

    @Test
    void a_cancel_wins_over_any_exit_code() {
        assertThat(ExitStatus.of(0, true)).isEqualTo("canceled");
        assertThat(ExitStatus.of(99, true)).isEqualTo("canceled");
        assertThat(ExitStatus.of(2, true)).isEqualTo("canceled");
    }
}
