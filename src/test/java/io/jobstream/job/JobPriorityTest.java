package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JobPriority} on real processes: a session of its own gets the nice on its autogroup; a process still in
 * this JVM's session (setsid not run yet) is left alone, so that the write never lowers the node itself.
 *
 * <p>What the kernel shows differs between machines, and each case is one the node must handle: a developer's machine
 * shows every session its autogroup; a node in the kernel's default autogroup (a runner that started it without a
 * session of its own) is shown an empty file while its setsid children are shown theirs; some sandboxes show the
 * children none. So the write is checked wherever the child shows an autogroup, and elsewhere that nothing is
 * counted. The empty own file is also checked everywhere with a stand-in.
 */
class JobPriorityTest {
    private static final Path SELF = Path.of("/proc/self/autogroup");

    private static String autogroup(Process p) throws Exception {
        return Files.readString(Path.of("/proc", Long.toString(p.pid()), "autogroup"))
                .strip();
    }

    /** Until the process leads a session of its own (setsid ran): field 4 after "(comm)" of /proc/<pid>/stat. */
    private static void awaitOwnSession(Process p) throws Exception {
        Path stat = Path.of("/proc", Long.toString(p.pid()), "stat");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            String s = Files.readString(stat, StandardCharsets.ISO_8859_1);
            String[] fields = s.substring(s.lastIndexOf(')') + 2).split(" ");
            if (Long.parseLong(fields[3]) == p.pid()) return;
            assertThat(System.nanoTime()).as("setsid ran within 10 s").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    /** The job's autogroup after apply: the nice where the kernel shows one, nothing anywhere else. */
    private static void assertGivenTheNice(Process p) throws Exception {
        awaitOwnSession(p);
        String shown = autogroup(p);
        if (!shown.isEmpty()) assertThat(shown).endsWith(" nice 5");
    }

    @Test
    void a_session_of_its_own_gets_the_nice_on_its_autogroup() throws Exception {
        String own = Files.readString(SELF).strip();
        Process p = new ProcessBuilder("setsid", "sleep", "30").start();
        try {
            JobPriority priority = new JobPriority(5);
            priority.apply(1, p);
            assertGivenTheNice(p);
            assertThat(Files.readString(SELF).strip()).isEqualTo(own);
            assertThat(priority.failed()).hasValue(0);
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void a_process_still_in_the_nodes_session_is_left_alone_and_counted() throws Exception {
        String own = Files.readString(SELF).strip();
        Process p = new ProcessBuilder("sleep", "30").start();
        try {
            String before = autogroup(p);
            JobPriority priority = new JobPriority(5);
            priority.apply(2, p);
            assertThat(priority.failed()).hasValue(1);
            assertThat(autogroup(p)).isEqualTo(before);
            assertThat(Files.readString(SELF).strip())
                    .as("the node's own autogroup")
                    .isEqualTo(own);
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void a_job_that_already_ended_is_not_a_failure() throws Exception {
        Process p = new ProcessBuilder("setsid", "true").start();
        p.waitFor();
        JobPriority priority = new JobPriority(5);
        priority.apply(3, p);
        assertThat(priority.failed()).hasValue(0);
    }

    @Test
    void a_node_shown_no_autogroup_of_its_own_still_gives_its_jobs_the_nice(@TempDir Path dir) throws Exception {
        // what the kernel shows a node in its default autogroup: an empty file; the job's setsid made it its own
        Path self = Files.writeString(dir.resolve("autogroup"), "");
        Process p = new ProcessBuilder("setsid", "sleep", "30").start();
        try {
            JobPriority priority = new JobPriority(5, self);
            priority.apply(4, p);
            assertGivenTheNice(p);
            assertThat(priority.failed()).hasValue(0);
            assertThat(priority.describe()).contains("nice 5");
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void zero_is_the_nodes_priority_and_adds_nothing() {
        assertThat(new JobPriority(0).prefix()).isEmpty();
        assertThat(new JobPriority(19).prefix()).containsExactly("nice", "-n", "19");
        assertThatThrownBy(() -> new JobPriority(20)).hasMessageContaining("jobs.nice must be from 0 to 19");
        assertThatThrownBy(() -> new JobPriority(-1)).hasMessageContaining("jobs.nice must be from 0 to 19");
    }
}
