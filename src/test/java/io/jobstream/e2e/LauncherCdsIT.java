package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Http;
import io.jobstream.testing.RedisServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's class-data sharing for {@code ./jobstream serve} (issue 15, cold start): a first serve writes an
 * archive of its classes when it stops, under a name of its own; the next serve adopts it and maps it; an archive that
 * is not one (truncated, garbage) does not stop a node from starting. Runs the real launcher script on a copy of the
 * checkout's layout (the script, the built jar, sources older than it), so the checkout's target/ is not touched.
 */
class LauncherCdsIT {
    @TempDir
    Path dir;

    @Test
    void a_first_serve_archives_its_classes_at_exit_and_the_next_maps_them() throws Exception {
        Path home = checkoutCopy();
        Path data = dir.resolve("data");

        Process first = serve(home, data);
        stop(first);
        List<Path> written = archives(home);
        assertThat(written).hasSize(1);
        assertThat(written.get(0).getFileName().toString()).endsWith(".jsa." + first.pid());

        Process second = serve(home, data);
        try {
            Path adopted = archives(home).get(0);
            assertThat(adopted.getFileName().toString()).endsWith(".jsa");
            assertThat(Files.readString(Path.of("/proc", Long.toString(second.pid()), "maps")))
                    .as("the JVM maps the archive")
                    .contains(adopted.toString());
        } finally {
            stop(second);
        }
        assertThat(archives(home)).as("an archive in use is not written again").hasSize(1);
    }

    @Test
    void a_broken_archive_does_not_stop_a_node_from_starting() throws Exception {
        Path home = checkoutCopy();
        Process first = serve(home, dir.resolve("data"));
        stop(first);
        Path archive = archives(home).get(0);
        Path named = archive.resolveSibling(archive.getFileName().toString().replaceAll("\\.[0-9]+$", ""));
        Files.move(archive, named);
        named.toFile().setWritable(true);
        Files.write(named, new byte[4096]); // not an archive: the JVM must refuse it and start without
        Files.setLastModifiedTime(named, FileTime.from(Instant.now().plusSeconds(5)));
        stop(serve(home, dir.resolve("data")));
    }

    /** The launcher, the built jar, and sources and pom older than the jar, so the launcher does not rebuild. */
    private Path checkoutCopy() throws IOException {
        Path jar = Path.of("target", "jobstream.jar").toAbsolutePath();
        assertThat(jar).as("mvn package builds it before the integration tests").exists();
        Path home = Files.createTempDirectory(dir, "checkout");
        Files.copy(Path.of("jobstream"), home.resolve("jobstream"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createDirectories(home.resolve("target"));
        Files.copy(jar, home.resolve("target/jobstream.jar"));
        Files.createDirectories(home.resolve("src/main"));
        Files.createDirectories(home.resolve("ansible"));
        Files.writeString(home.resolve("pom.xml"), "<!-- older than the jar: nothing to build -->");
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
        for (String p : List.of("pom.xml", "src/main", "src", "ansible"))
            Files.setLastModifiedTime(home.resolve(p), old);
        return home;
    }

    private static Process serve(Path home, Path data) throws Exception {
        int port = RedisServer.freePort();
        ProcessBuilder pb = new ProcessBuilder(
                        home.resolve("jobstream").toString(),
                        "serve",
                        "--data-dir",
                        data.toString(),
                        "--port",
                        Integer.toString(port))
                .redirectErrorStream(true)
                .redirectOutput(data.resolveSibling("serve-" + port + ".log").toFile());
        pb.environment().put("JOBSTREAM_ADMIN_PASSWORD", "launcher-test-password");
        pb.environment().remove("JOBSTREAM_JAVA_OPTS");
        pb.environment().remove("JOBSTREAM_CDS");
        Process p = pb.start();
        URI ping = URI.create("http://127.0.0.1:" + port + "/api/v2/ping/");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive())
                    .as("serve exited: " + Files.readString(data.resolveSibling("serve-" + port + ".log")))
                    .isTrue();
            try {
                if (Http.get(ping).statusCode() == 200) return p;
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(100); // polling a starting process: there is nothing to wait on
        }
        p.destroyForcibly();
        throw new AssertionError("serve did not answer its ping within 90 s");
    }

    /** SIGTERM, as Ctrl-C or systemd stop it; the archive is written while the JVM exits. */
    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("serve stops").isTrue();
    }

    private static List<Path> archives(Path home) throws IOException {
        try (Stream<Path> files = Files.list(home.resolve("target"))) {
            return files.filter(f -> f.getFileName().toString().contains(".jsa"))
                    .toList();
        }
    }
}
