package io.jobstream.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL of a node that was killed (SIGKILL, OOM, a supervisor's timeout) before it could stop it.
 * The postmaster runs outside the node's process group ({@code pg_ctl} detaches it), so it outlives the node, keeps
 * the data directory, and the next node's start on it fails ("Gave up waiting for server to start"). Found by the
 * pid in {@code postmaster.pid} and stopped as PostgreSQL asks to be: fast shutdown (SIGINT: sessions rolled back, a
 * checkpoint), then immediate (SIGQUIT: crash recovery at the next start) if that takes too long.
 *
 * <p>Only a process whose command line is PostgreSQL's with {@code -D} naming this very directory is touched: the
 * pid in a stale file may belong to anything by now. Called under the data-dir lock, so no live node owns that
 * postmaster. Reads {@code /proc}: on systems without it nothing is found and PostgreSQL's own error stands.
 */
final class LeftoverPostmaster {
    private static final Logger log = LoggerFactory.getLogger(LeftoverPostmaster.class);
    private final Path dataDir;
    private final Duration fastWait;
    private final Duration immediateWait;

    /** @param dataDir PostgreSQL's data directory ({@code <data-dir>/pg}) */
    LeftoverPostmaster(Path dataDir, Duration fastWait, Duration immediateWait) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.fastWait = fastWait;
        this.immediateWait = immediateWait;
    }

    /** 60 s for a fast shutdown (its checkpoint writes what the killed node left dirty), then 15 s for immediate. */
    static LeftoverPostmaster of(Path dataDir) {
        return new LeftoverPostmaster(dataDir, Duration.ofSeconds(60), Duration.ofSeconds(15));
    }

    /** What {@code postmaster.pid} says: the pid (its 1st line) and the port (its 4th; 0 when missing). */
    private record PidFile(long pid, int port) {}

    /** The postmaster still running on this data directory, if any. */
    private Optional<PidFile> find() {
        Path file = dataDir.resolve("postmaster.pid");
        PidFile said;
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.isEmpty()) return Optional.empty();
            said = new PidFile(Long.parseLong(lines.get(0).strip()), portOf(lines));
        } catch (NoSuchFileException | NumberFormatException none) {
            return Optional.empty();
        } catch (IOException e) {
            log.warn("embedded PostgreSQL: cannot read {}: {}", file, e.toString());
            return Optional.empty();
        }
        return alive(said.pid()) && runsOn(commandLine(said.pid())) ? Optional.of(said) : Optional.empty();
    }

    /**
     * Stops a postmaster left on this data directory, if there is one, and says so; returns whether there was one.
     * Throws when it will not stop: the start that follows would fail less clearly.
     */
    boolean stopIfRunning() {
        Optional<PidFile> found = find();
        if (found.isEmpty()) return false;
        long pid = found.get().pid();
        int clients = found.get().port() > 0 ? establishedTo(found.get().port()) : 0;
        if (clients > 0) { // a killed node's connections closed with it: someone still uses this server
            throw new IllegalStateException("a PostgreSQL server (pid " + pid + ") runs on " + dataDir + " with "
                    + clients + " open connection(s): a node may still be using it (one of a version without the"
                    + " data dir's lock?); stop that node, or the server (kill -INT " + pid + "), and start again");
        }
        log.warn(
                "embedded PostgreSQL: the server of an earlier node (pid {}) is still running on {}: that node was"
                        + " killed before it could stop it; stopping it (fast shutdown) before starting this node's",
                pid,
                dataDir);
        long t0 = System.nanoTime();
        signal(pid, "INT");
        if (!exited(pid, fastWait)) {
            log.warn(
                    "embedded PostgreSQL: pid {} did not stop within {} ms; immediate shutdown (recovery at start)",
                    pid,
                    fastWait.toMillis());
            signal(pid, "QUIT");
            if (!exited(pid, immediateWait)) {
                throw new IllegalStateException("the PostgreSQL server left running on " + dataDir + " (pid " + pid
                        + ") does not stop; stop it (kill -QUIT " + pid + ") and start again");
            }
        }
        log.info(
                "embedded PostgreSQL: the earlier node's server stopped in {} ms",
                (System.nanoTime() - t0) / 1_000_000);
        return true;
    }

    /** The 4th line's port; 0 when there is none to read (then no connections are counted). */
    private static int portOf(List<String> lines) {
        try {
            return lines.size() < 4 ? 0 : Integer.parseInt(lines.get(3).strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Established TCP connections whose local end is {@code port} (the server's side), from {@code /proc/net}. */
    static int establishedTo(int port) {
        int n = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)) {
                    String[] f = line.strip().split("\\s+");
                    // "sl local_address rem_address st …": the local port is hex after the colon; 01 = ESTABLISHED
                    if (f.length < 4 || !f[3].equals("01")) continue;
                    int colon = f[1].lastIndexOf(':');
                    if (colon > 0 && Integer.parseInt(f[1].substring(colon + 1), 16) == port) n++;
                }
            } catch (IOException | RuntimeException e) {
                // no such table (no IPv6), or not Linux: nothing found
            }
        }
        return n;
    }

    /** PostgreSQL's own binary (argv[0], as pg_ctl ran it), with {@code -D} naming this data directory. */
    private boolean runsOn(List<String> args) {
        if (args.isEmpty() || !Path.of(args.get(0)).getFileName().toString().equals("postgres")) return false;
        for (int i = 1; i + 1 < args.size(); i++) {
            if (args.get(i).equals("-D")
                    && Path.of(args.get(i + 1)).toAbsolutePath().normalize().equals(dataDir)) return true;
        }
        return false;
    }

    /** argv as the process has it; empty when it is gone or cannot be read. */
    private static List<String> commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String text = new String(raw, StandardCharsets.UTF_8);
            if (text.endsWith("\0")) text = text.substring(0, text.length() - 1);
            return text.isEmpty() ? List.of() : Arrays.asList(text.split("\0", -1));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** Java signals only TERM and KILL; PostgreSQL's shutdown modes are INT and QUIT. */
    private static void signal(long pid, String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid))
                    .redirectErrorStream(true)
                    .start();
            String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (kill.waitFor() != 0 && alive(pid))
                throw new IllegalStateException("cannot signal the PostgreSQL server left running (pid " + pid
                        + "): kill -" + name + " said: " + said);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot run kill to stop the PostgreSQL server left running (pid " + pid + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the PostgreSQL server left running", e);
        }
    }

    /**
     * Running, as {@code /proc} says: a zombie has exited (whoever adopted it may be slow to reap it, and Java's
     * {@code ProcessHandle.isAlive} counts zombies as alive).
     */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            int afterName = stat.lastIndexOf(')'); // the name in parentheses may hold anything, spaces included
            char state = stat.charAt(afterName + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException | RuntimeException gone) {
            return false;
        }
    }

    private static boolean exited(long pid, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (alive(pid)) {
            if (System.nanoTime() >= deadline) return false;
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !alive(pid);
            }
        }
        return true;
    }
}
