package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One node per data dir, and a node killed hard does not keep the next one from starting there: the embedded
 * PostgreSQL it left running (outside its process group, so SIGKILL does not reach it) is stopped at the next start.
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
}
