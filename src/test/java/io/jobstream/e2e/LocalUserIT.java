package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jobstream.config.PrivateFiles;
import io.jobstream.testing.Binaries;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.OtherUser;
import io.jobstream.testing.RunningServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12.3: another local OS user ({@code nobody}) on the node's host, tried for real. They must not reach the
 * embedded PostgreSQL (its port or a socket) without the password, nor read anything in the data dir (job output and
 * extra vars, the cli-token that makes them admin, the database passwords), and even the node's own database role must
 * not run programs. A data dir made by the previous version (trust, tables owned by postgres, 0644 files) is locked
 * down by its first start with this one.
 */
class LocalUserIT {
    @TempDir
    Path dir;

    /** The data dir's parent is traversable by all, as a checkout or /srv is: only the data dir's own mode protects it. */
    @BeforeEach
    void openParent() throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void another_local_user_can_neither_connect_to_the_embedded_database_nor_read_the_data_dir() throws Exception {
        Path data = dir.resolve("data");
        try (RunningServer node = RunningServer.start(
                data,
                Map.of("playbook-dir", Path.of("playbooks").toAbsolutePath().toString()))) {
            HttpResponse<String> launched = Http.post(
                    node.uri("/api/v2/jobs/"),
                    "{\"playbook\": \"hello.yml\", \"extra_vars\": {\"secret\": \"s3cr3t\"}}");
            assertThat(launched.statusCode()).as(launched.body()).isEqualTo(201);
            long id = Http.json(launched.body()).path("id").asLong();
            await().atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(300))
                    .until(() -> List.of("successful", "failed", "error")
                            .contains(Http.getJson(node.uri("/api/v2/jobs/" + id + "/"))
                                    .path("status")
                                    .asText()));
            assertThat(Http.getJson(node.uri("/api/v2/jobs/" + id + "/"))
                            .path("status")
                            .asText())
                    .isEqualTo("successful");
            Path job = data.resolve("jobs").resolve(Long.toString(id));

            assertDatabaseRefusesOthers(postgresPort(data));
            assertPrivate(data, job);
            assertNodeRoleCannotRunPrograms(data);
        }
    }

    @Test
    void a_data_dir_made_by_the_previous_version_is_locked_down_on_its_first_start() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path job = data.resolve("jobs").resolve("5");
        try (EmbeddedPostgres old = PreviousVersion.start(data)) {
            String psql = Binaries.psql().toString();
            OtherUser.Result attack = OtherUser.run(
                    psql,
                    "-X",
                    "-w",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    Integer.toString(old.getPort()),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-Atc",
                    "SELECT current_user");
            assertThat(attack.output())
                    .as("the previous version's database lets any local user in, as superuser: the"
                            + " attack this test repeats after the upgrade works")
                    .contains("postgres");
            // what a node of the previous version stored there: migrations, users and events, as the postgres superuser
            String asPostgres = "postgresql://postgres@127.0.0.1:" + old.getPort() + "/postgres";
            try (RunningServer previous =
                    RunningServer.start(dir.resolve("previous"), Map.of("database-url", asPostgres))) {
                assertThat(Http.post(
                                        previous.uri("/api/v2/job_events/ingest/"),
                                        Events.event(5, 1) + "\n" + Events.event(5, 2))
                                .statusCode())
                        .isEqualTo(200);
            }
            for (Path d : List.of(data.resolve("jobs"), job)) {
                Files.createDirectory(
                        d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            }
            for (Path f : List.of(job.resolve("stdout"), job.resolve("extra_vars.yml"), data.resolve("cli-token"))) {
                Files.writeString(f, "written by the previous version\n");
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            }
            assertThat(OtherUser.run("cat", job.resolve("stdout").toString()).succeeded())
                    .as("readable before")
                    .isTrue();
        }

        try (RunningServer node = RunningServer.start(data)) {
            assertDatabaseRefusesOthers(postgresPort(data));
            assertPrivate(data, job);
            assertNodeRoleCannotRunPrograms(data);
            // the node's role took over the tables and partitions the superuser had made: old events read, new ones
            // stored
            assertThat(Http.getJson(node.uri("/api/v2/jobs/5/job_events/"))
                            .path("count")
                            .asInt())
                    .isEqualTo(2);
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), Events.event(5, 3) + "\n" + Events.event(6, 1))
                            .statusCode())
                    .isEqualTo(200);
            assertThat(Http.getJson(node.uri("/api/v2/jobs/5/job_events/"))
                            .path("count")
                            .asInt())
                    .isEqualTo(3);
        }
        try (RunningServer again = RunningServer.start(data)) { // the locked-down data dir starts as it is
            assertThat(Http.getJson(again.uri("/api/v2/jobs/6/job_events/"))
                            .path("count")
                            .asInt())
                    .isEqualTo(1);
        }
    }

    private static void assertDatabaseRefusesOthers(int port) {
        String psql = Binaries.psql().toString();
        for (String role : List.of("postgres", "jobstream")) {
            OtherUser.Result tcp = OtherUser.run(
                    psql,
                    "-X",
                    "-w",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    Integer.toString(port),
                    "-U",
                    role,
                    "-d",
                    "postgres",
                    "-Atc",
                    "SELECT 'connected as ' || current_user");
            assertThat(tcp.succeeded())
                    .as("psql as " + OtherUser.NAME + " to 127.0.0.1:" + port + " as " + role + ": " + tcp.output())
                    .isFalse();
            assertThat(tcp.output()).contains("password").doesNotContain("connected as");
        }
        // the previous version's socket was /tmp/.s.PGSQL.<port>; now there is none anywhere
        OtherUser.Result socket = OtherUser.run(
                psql,
                "-X",
                "-w",
                "-h",
                "/tmp",
                "-p",
                Integer.toString(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-Atc",
                "SELECT 'connected as ' || current_user");
        assertThat(socket.succeeded()).as(socket.output()).isFalse();
        assertThat(socket.output()).doesNotContain("connected as");
        assertThat(Path.of("/tmp/.s.PGSQL." + port)).doesNotExist();
    }

    private static void assertPrivate(Path data, Path job) throws IOException {
        for (Path d : List.of(data, data.resolve("jobs"), job)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d)))
                    .as(d.toString())
                    .isEqualTo("rwx------");
        }
        List<Path> files = List.of(
                job.resolve("stdout"),
                job.resolve("extra_vars.yml"),
                data.resolve("cli-token"),
                data.resolve("database-password"),
                data.resolve("database-superuser-password"));
        for (Path f : files) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
                    .as(f.toString())
                    .isEqualTo("rw-------");
            OtherUser.Result read = OtherUser.run("cat", f.toString());
            assertThat(read.succeeded())
                    .as("cat " + f + " as " + OtherUser.NAME + ": " + read.output())
                    .isFalse();
            assertThat(read.output()).contains("Permission denied");
        }
        OtherUser.Result list = OtherUser.run("ls", data.toString());
        assertThat(list.output()).as("ls of the data dir").contains("Permission denied");
    }

    /** The pool's role owns the database but is no superuser: COPY … TO PROGRAM, the road to a shell, is refused. */
    private static void assertNodeRoleCannotRunPrograms(Path data) throws IOException, SQLException {
        String password = Files.readString(data.resolve("database-password")).trim();
        String url = "jdbc:postgresql://127.0.0.1:" + postgresPort(data) + "/postgres";
        try (Connection c = DriverManager.getConnection(url, "jobstream", password);
                Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
                assertThat(r.next()).isTrue();
                assertThat(r.getBoolean(1)).as("the node's role is a superuser").isFalse();
            }
            assertThatThrownBy(() -> s.execute("COPY (SELECT 1) TO PROGRAM 'id'"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("permission denied");
        }
        String superuser =
                Files.readString(data.resolve("database-superuser-password")).trim();
        try (Connection c = DriverManager.getConnection(url, "postgres", superuser)) {
            assertThat(c.isValid(5))
                    .as("the superuser logs in with its password")
                    .isTrue();
        }
    }

    /** The embedded server's port, from the first lines of its postmaster.pid (pid, data dir, start time, port). */
    private static int postgresPort(Path data) throws IOException {
        return Integer.parseInt(Files.readAllLines(data.resolve("pg").resolve("postmaster.pid"))
                .get(3)
                .trim());
    }

    /** The embedded PostgreSQL as the previous version started it: zonky's defaults (initdb -A trust), same settings. */
    private static final class PreviousVersion {
        static EmbeddedPostgres start(Path data) throws IOException {
            // the binaries where the test nodes keep theirs (zonky's world-writable "zonky" inside the private one)
            Path work = PrivateFiles.directory(RunningServer.PG_BINARIES).resolve("zonky");
            EmbeddedPostgres.Builder builder;
            synchronized (PreviousVersion.class) { // keep zonky's stale-directory sweep out of /tmp/embedded-pg
                System.setProperty("ot.epg.working-dir", work.toString());
                builder = EmbeddedPostgres.builder();
                System.clearProperty("ot.epg.working-dir");
            }
            return builder.setDataDirectory(data.resolve("pg"))
                    .setCleanDataDirectory(false)
                    .setOverrideWorkingDirectory(work.toFile())
                    .setRegisterShutdownHook(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "100")
                    .start();
        }
    }
}
