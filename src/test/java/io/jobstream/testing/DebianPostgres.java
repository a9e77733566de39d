package io.jobstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's PostgreSQL 15 ({@code /usr/lib/postgresql/15}) started by a test on a free port in its own directory,
 * as the {@code postgres} user (it refuses root), so that a test can stop it and start it again on the same port
 * while nodes keep their URL (the embedded server cannot do that). Trust authentication on 127.0.0.1 only.
 */
public final class DebianPostgres implements AutoCloseable {
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private final Path dir;
    private final int port;
    private final String options;
    private boolean running;

    private DebianPostgres(Path dir, int port, String options) {
        this.dir = dir;
        this.port = port;
        this.options = options;
    }

    public static boolean installed() {
        return Files.isExecutable(BIN.resolve("pg_ctl"));
    }

    public static DebianPostgres start(Path dir) {
        return start(dir, "");
    }

    /** @param options more server options, e.g. {@code -c shared_preload_libraries=pg_stat_statements} */
    public static DebianPostgres start(Path dir, String options) {
        DebianPostgres pg = new DebianPostgres(dir.toAbsolutePath(), RedisServer.freePort(), options);
        pg.initdb();
        pg.startServer();
        return pg;
    }

    public String url() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    private void initdb() {
        try {
            // every parent must be traversable by postgres
            for (Path p = dir; p != null && p.getParent() != null; p = p.getParent()) {
                if (Files.exists(p)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            run("chown", "postgres:postgres", dir.toString());
            asPostgres(BIN.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "postgres",
                    "-A", "trust", "-E", "UTF8");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startServer() {
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("log").toString(),
                "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off " + options,
                "-w", "start");
        running = true;
    }

    /** Fast shutdown: open connections are cut, as in a crash of the database host. */
    public void stop() {
        if (!running) return;
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "fast", "-w", "stop");
        running = false;
    }

    public void startAgain() {
        startServer();
    }

    /** Stops the server and deletes its directory. */
    @Override
    public void close() {
        stop();
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover temporary directory is not worth failing a test for
        }
    }

    private void asPostgres(String... cmd) {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        all.addAll(List.of(cmd));
        run(all.toArray(String[]::new));
    }

    private static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
