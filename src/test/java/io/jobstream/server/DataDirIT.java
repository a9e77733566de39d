package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One node per data dir, and a node killed hard does not keep the next one from starting there: the embedded
 * PostgreSQL it left running (outside its process group, so SIGKILL does not reach it) is stopped at the next start.
 * And a start that fails says why in one line: a port in use or TLS files that are not PEM before anything starts,
 * Redis unreachable after the database started, which is then stopped.
 */
class DataDirIT {
    private static final String DOROTHY = "{\"username\":\"dorothy\",\"password\":\"kept-across-the-kill\"}";

    @Test
    void a_second_node_on_a_data_dir_in_use_is_refused_and_the_first_keeps_serving() throws Exception {
        Path dir = TempDirs.make("data-dir-it");
        try (NodeProcess first = NodeProcess.start("first", dir, Map.of())) {
            Path second = Files.createDirectories(dir.resolve("second"));
            // its own log, the same data dir (by another name: the lock is on the directory, not on the path)
            Files.createSymbolicLink(second.resolve("data"), dir.resolve("data"));
            assertThatThrownBy(() -> NodeProcess.start("second", second, Map.of()))
                    .hasMessageContaining("did not start");
            assertThat(Files.readString(second.resolve("node.log")))
                    .contains("jobstream serve: the data dir "
                            + dir.resolve("data").toRealPath())
                    .contains("in use by another jobstream node (pid " + first.pid() + ", since ")
                    .doesNotContain("stopping (committing queued events)") // it started nothing
                    .doesNotContain("Exception");
            assertThat(Http.get(first.uri("/api/v2/me/"), TestUsers.ADMIN_AUTH).statusCode())
                    .isEqualTo(200);
        }
    }

    @Test
    void a_node_killed_hard_leaves_postgres_running_and_the_next_start_stops_it_and_keeps_the_data() throws Exception {
        Path dir = TempDirs.make("data-dir-it");
        Path pidFile = dir.resolve("data/pg/postmaster.pid");
        long postmaster;
        try (NodeProcess killed = NodeProcess.start("killed", dir, Map.of())) {
            assertThat(Http.postJson(killed.uri("/api/v2/users/"), DOROTHY, TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
            postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
            killed.kill();
            assertThat(killed.alive()).isFalse();
        }
        assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive))
                .as("SIGKILL does not reach the postmaster (the reason for this test)")
                .contains(true);
        Files.move(dir.resolve("node.log"), dir.resolve("killed.log"));

        try (NodeProcess next = NodeProcess.start("next", dir, Map.of())) {
            assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive))
                    .as("the left postmaster was stopped")
                    .isNotEqualTo(java.util.Optional.of(true));
            List<String> log = Files.readAllLines(dir.resolve("node.log"));
            assertThat(log)
                    .anyMatch(l -> l.contains("WARN") && l.contains("(pid " + postmaster + ") is still running on"))
                    .anyMatch(l -> l.contains("the earlier node's server stopped in"))
                    .noneMatch(l -> l.contains("immediate shutdown"));
            assertThat(Http.get(next.uri("/api/v2/me/"), TestUsers.basic("dorothy", "kept-across-the-kill"))
                            .statusCode())
                    .as("what the killed node committed is there")
                    .isEqualTo(200);
        }
        assertThat(Files.exists(pidFile))
                .as("a clean stop stops its own postmaster")
                .isFalse();
    }

    @Test
    void a_port_in_use_fails_the_start_at_once_in_one_line() throws Exception {
        Path dir = TempDirs.make("data-dir-it");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Serve serve = serve(dir, "--port", Integer.toString(port));
            assertThat(serve.exit()).as(serve.output()).isEqualTo(1);
            assertThat(serve.output())
                    .contains("jobstream serve: cannot start: port " + port + " on 127.0.0.1 is in use by another"
                            + " program: stop it, or choose another port with --port (env JOBSTREAM_PORT)")
                    .doesNotContain("embedded PostgreSQL started") // found before the database starts for nothing
                    .doesNotContain("Exception")
                    .doesNotContain("stopping (committing queued events)");
        }
    }

    @Test
    void tls_files_that_are_not_pem_fail_the_start_before_anything_starts() throws Exception {
        Path dir = TempDirs.make("data-dir-it");
        Path cert = Files.writeString(dir.resolve("cert.pem"), "not a certificate\n");
        Path key = Files.writeString(dir.resolve("key.pem"), "not a key\n");
        Serve serve = serve(dir, "--port", "0", "--tls-cert", cert.toString(), "--tls-key", key.toString());
        assertThat(serve.exit()).as(serve.output()).isEqualTo(1);
        assertThat(serve.output())
                .doesNotContain("embedded PostgreSQL started")
                .contains("jobstream serve: cannot start: cannot set up TLS from " + cert + " and " + key + ": ")
                .doesNotContain("\tat ")
                .doesNotContain("stopping (committing queued events)");
    }

    @Test
    void redis_down_at_start_is_named_and_the_database_it_had_started_is_stopped() throws Exception {
        Path dir = TempDirs.make("data-dir-it");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort(); // nothing listens there once this closes
        }
        Serve serve = serve(dir, "--port", "0", "--redis-url", "redis://127.0.0.1:" + closed);
        assertThat(serve.exit()).as(serve.output()).isEqualTo(1);
        assertThat(serve.output())
                .contains("embedded PostgreSQL started") // it got that far
                .contains(
                        "jobstream serve: cannot start: cannot reach Redis at 127.0.0.1:" + closed + " (--redis-url): ")
                .doesNotContain("\tat ");
        assertThat(dir.resolve("data/pg/postmaster.pid"))
                .as("the database it started is stopped")
                .doesNotExist();
    }

    private record Serve(int exit, String output) {}

    /** {@code serve} on {@code dir/data} with these flags, expected to exit within a minute. */
    private static Serve serve(Path dir, String... flags) throws Exception {
        List<String> cmd = NodeProcess.cli(
                List.of(),
                "serve",
                "--data-dir",
                dir.resolve("data").toString(),
                "--database-binaries-dir",
                RunningServer.PG_BINARIES.toString());
        cmd.addAll(List.of(flags));
        Path log = dir.resolve("serve.log");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("serve did not exit: " + Files.readString(log));
        }
        return new Serve(p.exitValue(), Files.readString(log));
    }
}
