package io.jobstream.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A jobstream node in its own JVM ({@code java -cp <the test class path> io.jobstream.cli.Main serve}), so that a
 * test can kill it with SIGKILL. Output goes to {@code <dir>/node.log}; the port is read from the start line.
 */
public final class NodeProcess implements AutoCloseable {
    private static final Pattern RUNNING = Pattern.compile("jobstream is running: open (http://\\S+)");
    private final Process process;
    private final URI uri;
    private final String name;

    private NodeProcess(Process process, URI uri, String name) {
        this.process = process;
        this.uri = uri;
        this.name = name;
    }

    /** Starts {@code serve} with {@code --key value} for each setting, port 0 and the data dir, and waits until it serves. */
    public static NodeProcess start(String name, Path dir, Map<String, String> settings) {
        // small and quick to start: tests run several nodes on 2 cores
        return start(name, dir, settings, List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    }

    /** As {@link #start(String, Path, Map)} with these JVM options. */
    public static NodeProcess start(String name, Path dir, Map<String, String> settings, List<String> jvmOptions) {
        return start(name, dir, settings, jvmOptions, Map.of(), Duration.ofSeconds(60));
    }

    /** As above, waiting up to {@code within} for the node to serve (a loaded machine starts JVMs slowly). */
    public static NodeProcess start(
            String name, Path dir, Map<String, String> settings, List<String> jvmOptions, Duration within) {
        return start(name, dir, settings, jvmOptions, Map.of(), within);
    }

    /** As {@link #start(String, Path, Map, List)} with these variables added to the node's environment. */
    public static NodeProcess start(
            String name,
            Path dir,
            Map<String, String> settings,
            List<String> jvmOptions,
            Map<String, String> environment) {
        return start(name, dir, settings, jvmOptions, environment, Duration.ofSeconds(60));
    }

    /**
     * The command line that runs {@code jobstream args…} in a JVM of its own, on the tests' class path (this build's
     * classes, not a jar), with {@code jvmOptions} before the class path.
     */
    public static List<String> cli(List<String> jvmOptions, String... args) {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", classPath, "io.jobstream.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static NodeProcess start(
            String name,
            Path dir,
            Map<String, String> settings,
            List<String> jvmOptions,
            Map<String, String> environment,
            Duration within) {
        try {
            Files.createDirectories(dir);
            List<String> cmd = cli(
                    jvmOptions,
                    "serve",
                    "--port",
                    "0",
                    "--node-name",
                    name,
                    "--data-dir",
                    dir.resolve("data").toString());
            if (!settings.containsKey("database.binaries-dir")) {
                cmd.addAll(List.of("--database-binaries-dir", RunningServer.PG_BINARIES.toString()));
            }
            if (!settings.containsKey("admin-password")) {
                cmd.addAll(List.of("--admin-password", TestUsers.ADMIN_PASSWORD));
            }
            settings.forEach((k, v) -> {
                cmd.add("--" + k.replace('.', '-'));
                cmd.add(v);
            });
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
            builder.environment().putAll(environment);
            Process p = builder.start();
            Path log = dir.resolve("node.log");
            CompletableFuture<URI> started = new CompletableFuture<>();
            Thread pump = new Thread(
                    () -> {
                        try (BufferedReader r =
                                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                            String line;
                            while ((line = r.readLine()) != null) {
                                Files.writeString(
                                        log, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                                Matcher m = RUNNING.matcher(line);
                                if (m.find()) started.complete(URI.create(m.group(1)));
                            }
                        } catch (IOException e) {
                            started.completeExceptionally(e);
                        }
                        started.completeExceptionally(
                                new IllegalStateException("node " + name + " exited; see " + log + ":\n" + tail(log)));
                    },
                    "node-output-" + name);
            pump.setDaemon(true);
            pump.start();
            URI uri;
            try {
                uri = started.get(within.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception notServing) {
                p.destroyForcibly(); // never leave a half-started node behind
                throw notServing;
            }
            return new NodeProcess(p, uri, name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("node " + name + " did not start", e);
        }
    }

    /** The last lines of a node's log, for a failure's message (the test's temporary directory may be gone by then). */
    private static String tail(Path log) {
        try {
            // stack frames left out: the messages say what went wrong
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.startsWith("\tat ") && !l.startsWith("\t..."))
                    .toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(no log: " + e + ")";
        }
    }

    public String name() {
        return name;
    }

    public URI uri(String path) {
        return uri.resolve(path);
    }

    public URI websocketUri() {
        return URI.create("ws://" + uri.getHost() + ":" + uri.getPort() + "/websocket/");
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /**
     * SIGSTOP: the node freezes with whatever it holds (stream entries read and not committed stay pending in Redis,
     * its connections stay open), so that a test can then {@link #kill()} it at a moment it chose.
     */
    public void pause() {
        try {
            Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            if (stop.waitFor() != 0) throw new IllegalStateException("kill -STOP " + process.pid() + " failed");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGCONT after {@link #pause()}. */
    public void proceed() {
        try {
            new ProcessBuilder("kill", "-CONT", Long.toString(process.pid()))
                    .inheritIO()
                    .start()
                    .waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGKILL: no shutdown hook, nothing flushed, connections cut. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM (a clean stop), then SIGKILL if it takes longer than 30 s. */
    @Override
    public void close() {
        if (!process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
