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
 * <p>Where the kernel shows processes no autogroup (a cpu cgroup of its own, some sandboxes: the file is empty, for
 * this JVM or only for the processes it starts), the node writes none: those cases then check that nothing is
 * written and nothing counted, and the write itself is checked only where autogroups show (as on a developer's
 * machine). The empty-autogroup case is also checked everywhere with a stand-in file.
 */
class JobPriorityTest {
    private static final Path SELF = Path.of("/proc/self/autogroup");

    private static String autogroup(Process p) throws Exception {
        return Files.readString(Path.of("/proc", Long.toString(p.pid()), "autogroup"))
                .strip();
    }

    /** Whether the kernel shows this JVM's children an autogroup (see the class comment). */
    private static boolean autogroups() throws Exception {
        if (Files.readString(SELF).isBlank()) return false;
        Process p = new ProcessBuilder("sleep", "30").start();
        try {
            return !autogroup(p).isEmpty();
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    /** Until the process leads a session of its own (setsid ran): field 3 after "(comm)" of /proc/<pid>/stat. */
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

    @Test
    void a_session_of_its_own_gets_the_nice_on_its_autogroup() throws Exception {
        String own = Files.readString(SELF).strip();
        Process p = new ProcessBuilder("setsid", "sleep", "30").start();
        try {
            JobPriority priority = new JobPriority(5);
            priority.apply(1, p);
            if (autogroups()) {
                assertThat(autogroup(p)).endsWith(" nice 5");
            } else {
                assertThat(autogroup(p)).as("no autogroup shown, none written").isEmpty();
            }
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
            JobPriority priority = new JobPriority(5);
            priority.apply(2, p);
            // outside autogroups the node's own cannot be lowered, so there is nothing to refuse
            assertThat(priority.failed()).hasValue(autogroups() ? 1 : 0);
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
    void a_node_outside_autogroups_leaves_them_alone_and_is_not_a_failure(@TempDir Path dir) throws Exception {
        // what the kernel shows a task in a cpu cgroup of its own: an empty autogroup file
        Path self = Files.writeString(dir.resolve("autogroup"), "");
        Process p = new ProcessBuilder("setsid", "sleep", "30").start();
        try {
            awaitOwnSession(p);
            String before = autogroup(p);
            JobPriority priority = new JobPriority(5, self);
            long start = System.nanoTime();
            priority.apply(4, p);
            assertThat(System.nanoTime() - start).as("no wait for a session").isLessThan(1_000_000_000L);
            assertThat(priority.failed()).hasValue(0);
            assertThat(autogroup(p)).isEqualTo(before);
            assertThat(priority.describe()).contains("process nice 5").contains("cpu cgroup");
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
