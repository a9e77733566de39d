package io.jobstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command as another local OS user ({@code nobody}), as an attacker sharing the node's host would: through
 * {@code runuser}, which needs root (CI runs as root). With a clean environment, so no credential of ours (PGPASSWORD,
 * a .pgpass under our HOME) reaches the command.
 */
public final class OtherUser {
    public static final String NAME = "nobody";

    private OtherUser() {}

    /** What a command printed (stdout and stderr) and its exit code. */
    public record Result(int exit, String output) {
        public boolean succeeded() {
            return exit == 0;
        }
    }

    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException e) {
            return false;
        }
    }

    public static Result run(String... command) {
        if (!isRoot()) {
            throw new AssertionError("this test runs commands as another OS user (" + NAME + ") and needs root, as CI"
                    + " runs (.ci/run under sudo); it does not skip");
        }
        List<String> all = new ArrayList<>(List.of(Binaries.runuser().toString(), "-u", NAME, "--"));
        all.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(all).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", "/nonexistent");
        env.put("LC_ALL", "C");
        env.put("PGCONNECT_TIMEOUT", "5");
        try {
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", all) + " did not end within 60 s: " + output);
            }
            return new Result(p.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
