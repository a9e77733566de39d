package io.jobstream.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * AWX's own client, awxkit 24.x (the {@code awx} CLI and its Python API), in a virtualenv under {@code target/}, made
 * once from the unmodified source in the shared vendor directory by its {@code install-awxkit} script (offline: no
 * registry this machine reaches serves awxkit). The vendor directory is {@code JOBSTREAM_AWXKIT_VENDOR}, else
 * {@code ../shared/vendor} beside the repository, else {@code /work/shared/vendor}; none of them, or a venv that cannot
 * be made (Debian's python3-venv, python3-requests, python3-yaml, python3-websocket missing), fails the test with what
 * to do. It never skips.
 */
public final class AwxkitVenv {
    private static final Path VENV = Path.of("target/awxkit-venv").toAbsolutePath();

    private AwxkitVenv() {}

    /** The venv's directory, made on first use (a few seconds) and reused by later runs. */
    public static synchronized Path venv() {
        if (Files.isExecutable(VENV.resolve("bin/awx"))) return VENV;
        Path vendor = vendor();
        try {
            Trees.delete(VENV); // a venv left half-made by an interrupted run
            Result r = run(List.of(vendor.resolve("install-awxkit").toString(), VENV.toString()), null, 300);
            if (r.exit() != 0 || !Files.isExecutable(VENV.resolve("bin/awx"))) {
                Trees.delete(VENV);
                throw new AssertionError("cannot make the awxkit venv with " + vendor.resolve("install-awxkit")
                        + " (it needs Debian's python3-venv python3-requests python3-yaml python3-websocket;"
                        + " .ci/run installs them): " + r.output());
            }
            return VENV;
        } catch (IOException e) {
            throw new AssertionError("cannot make the awxkit venv: " + e, e);
        }
    }

    /** The vendor directory holding awxkit's source and install-awxkit; fails (never skips) when there is none. */
    static Path vendor() {
        List<Path> tried = new ArrayList<>();
        Optional<String> env =
                Optional.ofNullable(System.getenv("JOBSTREAM_AWXKIT_VENDOR")).filter(s -> !s.isBlank());
        if (env.isPresent()) tried.add(Path.of(env.get()));
        tried.add(Path.of("..", "shared", "vendor").toAbsolutePath().normalize());
        tried.add(Path.of("/work/shared/vendor"));
        for (Path p : tried) {
            if (Files.isExecutable(p.resolve("install-awxkit")) && Files.isDirectory(p.resolve("awxkit"))) return p;
            if (env.isPresent() && p.equals(Path.of(env.get())))
                throw new AssertionError("JOBSTREAM_AWXKIT_VENDOR=" + p + " holds no install-awxkit and awxkit/");
        }
        throw new AssertionError("awxkit's vendor directory (install-awxkit and awxkit/) was not found in " + tried
                + ": set JOBSTREAM_AWXKIT_VENDOR to it");
    }

    /** What a program printed (stdout and stderr together) and its exit code. */
    public record Result(int exit, String output) {}

    /** Runs {@code awx} with these arguments; fails the test if it runs longer than {@code timeoutSeconds}. */
    public static Result awx(List<String> args, long timeoutSeconds) {
        List<String> command = new ArrayList<>();
        command.add(venv().resolve("bin/awx").toString());
        command.addAll(args);
        return run(command, null, timeoutSeconds);
    }

    /** Runs the venv's Python on a script from the test resources ({@code src/test/resources/awxkit/NAME}). */
    public static Result python(String script, List<String> args, long timeoutSeconds) {
        List<String> command = new ArrayList<>();
        command.add(venv().resolve("bin/python").toString());
        command.add(
                Path.of("src/test/resources/awxkit", script).toAbsolutePath().toString());
        command.addAll(args);
        return run(command, null, timeoutSeconds);
    }

    private static Result run(List<String> command, Path dir, long timeoutSeconds) {
        try {
            Path log = Files.createTempFile("awxkit", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
                pb.redirectOutput(log.toFile());
                if (dir != null) pb.directory(dir.toFile());
                // no AWX settings from the machine running the tests: each command says what it connects to
                pb.environment().keySet().removeIf(k -> k.startsWith("CONTROLLER_") || k.startsWith("TOWER_"));
                pb.environment().put("PYTHONUNBUFFERED", "1");
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new AssertionError(command + " ran longer than " + timeoutSeconds + " s: "
                            + Files.readString(log, StandardCharsets.UTF_8));
                }
                return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }
}
