package io.jobstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Debian's PostgreSQL (the newest installed, found by {@link Binaries#postgres}) started by a test on a free port in its own directory,
 * as the {@code postgres} user (it refuses root), so that a test can stop it and start it again on the same port
 * while nodes keep their URL (the embedded server cannot do that). On 127.0.0.1 only, with a password.
 */
public final class DebianPostgres implements AutoCloseable {
    private final Path dir;
    private final int port;
    /** Every connection needs it (SCRAM), so other users on a shared CI host cannot use the test's superuser. */
    private final String password = newPassword();

    private final String options;
    private boolean running;

    private DebianPostgres(Path dir, int port, String options) {
        this.dir = dir;
        this.port = port;
        this.options = options;
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

    private static String newPassword() {
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    public String url() {
        return "postgresql://postgres:" + password + "@127.0.0.1:" + port + "/postgres";
    }

    private void initdb() {
        try {
            // every parent must be traversable by postgres: add o+x where it lacks, never replace a mode (setting
            // /tmp to 0755 would drop its sticky bit and shut every other user out of it)
            for (Path p = dir.getParent(); p != null && p.getParent() != null; p = p.getParent()) {
                if (!Files.exists(p)) continue;
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
                if (mode.contains(PosixFilePermission.OTHERS_EXECUTE)) continue;
                mode.add(PosixFilePermission.OTHERS_EXECUTE);
                Files.setPosixFilePermissions(p, mode);
            }
            Files.createDirectories(dir);
            // 0700 (postgres's): its socket is in there, and no one else has business in it
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Path pwfile = dir.resolve("pwfile");
            Files.writeString(pwfile, password + "\n");
            run("chown", "-R", "postgres:postgres", dir.toString());
            asPostgres(
                    Binaries.postgres("initdb").toString(),
                    "-D",
                    dir.resolve("data").toString(),
                    "-U",
                    "postgres",
                    "-A",
                    "scram-sha-256",
                    "--pwfile=" + pwfile,
                    "-E",
                    "UTF8");
            Files.delete(pwfile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startServer() {
        asPostgres(
                Binaries.postgres("pg_ctl").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-l",
                dir.resolve("log").toString(),
                "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off "
                        + options,
                "-w",
                "start");
        running = true;
    }

    /** Fast shutdown: open connections are cut, as in a crash of the database host. */
    public void stop() {
        if (!running) return;
        asPostgres(
                Binaries.postgres("pg_ctl").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-m",
                "fast",
                "-w",
                "stop");
        running = false;
    }

    public void startAgain() {
        startServer();
    }

    /** Stops the server and deletes its directory. */
    @Override
    public void close() {
        stop();
        try {
            Trees.delete(dir);
        } catch (IOException e) {
            // a leftover temporary directory is not worth failing a test for
        }
    }

    private void asPostgres(String... cmd) {
        List<String> all = new ArrayList<>(List.of(Binaries.runuser().toString(), "-u", "postgres", "--"));
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
