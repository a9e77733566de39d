package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.testing.LogCapture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which process counts as a postmaster left on the data directory, and how it is stopped. The stand-ins are
 * processes whose argv is PostgreSQL's ({@code exec -a <dir>/postgres … -D <data>}); a real postmaster left by a killed node is
 * {@code DataDirIT}'s.
 */
class LeftoverPostmasterTest {
    @TempDir
    Path dir;

    private Path pg;
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void dataDirectory() throws Exception {
        pg = Files.createDirectory(dir.resolve("pg"));
    }

    @AfterEach
    void stopStandIns() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void nothing_to_stop_without_a_pid_file_or_with_one_that_says_nothing() throws Exception {
        assertThat(leftover().stopIfRunning()).isFalse();
        Files.writeString(pg.resolve("postmaster.pid"), "not a pid\n" + pg + "\n");
        assertThat(leftover().stopIfRunning()).isFalse();
        Files.writeString(pg.resolve("postmaster.pid"), "");
        assertThat(leftover().stopIfRunning()).isFalse();
    }

    @Test
    void a_pid_that_now_belongs_to_another_program_is_left_alone() throws Exception {
        Process other = start("sleep", "30"); // the pid of a stale file, reused
        writePidFile(other.pid());
        assertThat(leftover().stopIfRunning()).isFalse();
        assertThat(LeftoverPostmaster.alive(other.pid())).isTrue();
    }

    @Test
    void a_postmaster_of_another_data_directory_is_left_alone() throws Exception {
        Path elsewhere = Files.createDirectory(dir.resolve("other-pg"));
        Process other = standIn(elsewhere, "exit", "exit");
        writePidFile(other.pid());
        assertThat(leftover().stopIfRunning()).isFalse();
        assertThat(LeftoverPostmaster.alive(other.pid())).isTrue();
    }

    @Test
    void a_postmaster_left_on_this_directory_gets_a_fast_shutdown_and_a_warning() throws Exception {
        Process left = standIn(pg, "exit", "exit");
        writePidFile(left.pid());
        try (LogCapture log = new LogCapture()) {
            assertThat(leftover().stopIfRunning()).isTrue();
            assertThat(log.lines()).anyMatch(l -> l.contains("(pid " + left.pid() + ") is still running on " + pg));
            assertThat(log.lines()).noneMatch(l -> l.contains("immediate shutdown"));
        }
        assertThat(left.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(left.exitValue()).as("it ended on SIGINT, its own way").isZero();
    }

    @Test
    void one_that_has_clients_is_left_alone_and_the_start_fails_saying_so() throws Exception {
        Process left = standIn(pg, "exit", "exit");
        try (java.net.ServerSocket port = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
                java.net.Socket client =
                        new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port.getLocalPort());
                java.net.Socket server = port.accept()) {
            // as PostgreSQL writes it: pid, data directory, start time, port
            Files.writeString(
                    pg.resolve("postmaster.pid"),
                    left.pid() + "\n" + pg + "\n1796658036\n" + port.getLocalPort() + "\n");
            assertThat(LeftoverPostmaster.establishedTo(port.getLocalPort())).isEqualTo(1);
            assertThatThrownBy(() -> leftover().stopIfRunning())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("(pid " + left.pid() + ") runs on " + pg + " with 1 open connection(s)")
                    .hasMessageContaining("a node may still be using it");
            assertThat(LeftoverPostmaster.alive(left.pid())).isTrue();
        }
    }

    @Test
    void one_that_ignores_the_fast_shutdown_gets_the_immediate_one() throws Exception {
        Process left = standIn(pg, "ignore", "exit");
        writePidFile(left.pid());
        try (LogCapture log = new LogCapture()) {
            assertThat(leftover().stopIfRunning()).isTrue();
            assertThat(log.lines()).anyMatch(l -> l.contains("did not stop within") && l.contains("immediate"));
        }
        assertThat(LeftoverPostmaster.alive(left.pid())).isFalse();
    }

    @Test
    void one_that_will_not_stop_fails_the_start_with_what_to_do() throws Exception {
        Process left = standIn(pg, "ignore", "ignore");
        writePidFile(left.pid());
        assertThatThrownBy(() -> leftover().stopIfRunning())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("(pid " + left.pid() + ") does not stop")
                .hasMessageContaining("kill -QUIT " + left.pid());
    }

    private LeftoverPostmaster leftover() {
        return new LeftoverPostmaster(pg, Duration.ofMillis(500), Duration.ofSeconds(5));
    }

    /**
     * A process with PostgreSQL's argv ({@code exec -a}) whose SIGINT and SIGQUIT do what they say: "exit" or
     * "ignore". Python, not a shell: bash ignores SIGQUIT and cannot trap a signal ignored when it started; the
     * system's python3, as ansible-core brings it: a pyenv shim would exec another argv.
     */
    private Process standIn(Path dataDir, String onInt, String onQuit) throws Exception {
        String script = "import signal, sys, time\n"
                // a JVM's children start with SIGQUIT blocked (HotSpot keeps it for its own thread dumps)
                + "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGQUIT})\n"
                + "signal.signal(signal.SIGINT, " + handler(onInt, 0) + ")\n"
                + "signal.signal(signal.SIGQUIT, " + handler(onQuit, 3) + ")\n"
                + "print('ready', flush=True)\n"
                + "while True: time.sleep(0.05)\n";
        Path file = Files.writeString(dir.resolve("stand-in-" + started.size() + ".py"), script);
        Process p = start(
                "bash",
                "-c",
                "exec -a " + dir.resolve("bin/postgres") + " /usr/bin/python3 -c \"$(cat " + file + ")\" -D "
                        + dataDir);
        // its handlers are set once it says so
        String said = new String(p.getInputStream().readNBytes(6), StandardCharsets.UTF_8);
        assertThat(said).as("the stand-in started").isEqualTo("ready\n");
        return p;
    }

    private static String handler(String action, int status) {
        return action.equals("exit") ? "lambda *a: sys.exit(" + status + ")" : "signal.SIG_IGN";
    }

    private Process start(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    private void writePidFile(long pid) throws Exception {
        // as PostgreSQL writes it: pid, data directory, start time, port, …
        Files.writeString(pg.resolve("postmaster.pid"), pid + "\n" + pg + "\n1796658036\n5432\n");
    }
}
