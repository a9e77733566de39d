package io.jobstream.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real Debian {@code redis-server} ({@link Binaries#redisServer}) for tests: a free port on 127.0.0.1, its own directory, stopped by its
 * PID. With {@code appendOnly} it keeps its data across {@link #restart()} (AOF, fsync every second, flushed on a
 * clean shutdown), as a production Redis for jobstream must.
 */
public final class RedisServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private final List<String> persistence;
    private Process process;

    private RedisServer(Path dir, int port, List<String> persistence) {
        this.dir = dir;
        this.port = port;
        this.persistence = persistence;
    }

    public static RedisServer start(Path dir, boolean appendOnly) {
        return start(
                dir,
                appendOnly
                        ? List.of("--appendonly", "yes", "--appendfsync", "everysec")
                        : List.of("--appendonly", "no"));
    }

    /** Starts with these persistence options (e.g. {@code --appendfsync always}, or {@code --rename-command CONFIG ""}). */
    public static RedisServer start(Path dir, List<String> persistence) {
        RedisServer r = new RedisServer(dir, freePort(), List.copyOf(persistence));
        r.launch();
        return r;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    private void launch() {
        try {
            Files.createDirectories(dir);
            List<String> cmd = new ArrayList<>(List.of(
                    Binaries.redisServer().toString(),
                    "--port",
                    Integer.toString(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    dir.toString(),
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "no",
                    "--logfile",
                    dir.resolve("redis.log").toString()));
            cmd.addAll(persistence);
            process = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis.out").toFile())
                    .start();
            try {
                await().atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> {
                            if (!process.isAlive()) throw new IllegalStateException("redis-server exited: " + log());
                            return listening();
                        });
            } catch (ConditionTimeoutException e) {
                throw new IllegalStateException("redis-server did not listen on " + port + " within 10 s: " + log());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean listening() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("redis.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** Stops the server cleanly (SIGTERM: it writes its AOF) and waits for its PID to end. */
    public void stop() {
        if (process == null) return;
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    /** Stops and starts again on the same port and directory. */
    public void restart() {
        stop();
        launch();
    }

    @Override
    public void close() {
        stop();
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
