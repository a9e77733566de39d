package io.jobstream.job;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU priority of launched jobs ({@code jobs.nice}), so that playbooks yield the CPU to the node (websockets,
 * REST, ingest) when both want it.
 *
 * <p>Two levers, because either alone misses a case. Linux's scheduler autogroups ({@code
 * kernel.sched_autogroup_enabled}, on by default in most distributions) put each session in a group of its own that
 * weighs as much as any other; a job starts through {@code setsid} (see {@link JobProcesses}), so each running
 * playbook weighed as much as the whole node JVM, and a process's nice acts only inside its own autogroup. So the
 * job's autogroup gets the nice, written to {@code /proc/<pid>/autogroup} once the job has its session. That
 * autogroup holds all of the job's forks (a fork shares it), those made before the write too. Where autogroups do
 * not apply (kernel without them or with them off, a node in a cpu cgroup of its own as under systemd with CPU
 * accounting: the scheduler uses autogroups only in the root cpu cgroup) only the process's nice counts, so the
 * command also runs {@code nice -n}, inherited by every fork; the autogroup write is harmless there.
 *
 * <p>Raising a nice needs no privilege; an unprivileged write to an autogroup is refused with EAGAIN within 100 ms of
 * any other on the machine (a kernel rate limit), hence the retries. A failure is logged and counted ({@code
 * jobs_priority_failed_total}); the job runs all the same, at its process nice.
 */
final class JobPriority {
    private static final Logger LOG = LoggerFactory.getLogger(JobPriority.class);
    private static final Path SELF = Path.of("/proc/self/autogroup");
    /** How long to wait for the job's own session (setsid runs just after the JVM's exec). */
    private static final long SESSION_WAIT_NANOS = 2_000_000_000L;
    /** How long to retry a write the kernel's rate limit refused (one write per 100 ms, machine-wide). */
    private static final long RETRY_NANOS = 3_000_000_000L;

    private final int nice;
    private final Path self;
    private final AtomicLong failed = new AtomicLong();
    private final AtomicBoolean childrenWithoutAutogroupLogged = new AtomicBoolean();

    /** @param nice 0 (as the node) to 19 (only what the node leaves) */
    JobPriority(int nice) {
        this(nice, SELF);
    }

    /** @param self where the node reads its own autogroup (a test gives another file) */
    JobPriority(int nice, Path self) {
        if (nice < 0 || nice > 19) throw new IllegalArgumentException("jobs.nice must be from 0 to 19, was " + nice);
        this.nice = nice;
        this.self = self;
    }

    int nice() {
        return nice;
    }

    /** Launched jobs whose autogroup could not be given the nice (they run at their process nice). */
    AtomicLong failed() {
        return failed;
    }

    /** What goes before the command: {@code nice -n N} (coreutils), nothing at 0. */
    List<String> prefix() {
        return nice == 0 ? List.of() : List.of("nice", "-n", Integer.toString(nice));
    }

    /** One line for the start-up log: what this kernel lets the setting do. */
    String describe() {
        if (nice == 0) return "launched jobs run at the node's priority (jobs.nice=0)";
        if (!Files.exists(self)) {
            return "launched jobs run at process nice " + nice + "; this kernel has no scheduler autogroups";
        }
        String enabled = read(Path.of("/proc/sys/kernel/sched_autogroup_enabled"));
        return "launched jobs run at nice " + nice + ", their session's autogroup too (kernel.sched_autogroup_enabled="
                + (enabled == null ? "?" : enabled) + ")";
    }

    /**
     * Gives the job's autogroup the nice. Blocks up to a few seconds (the kernel's rate limit); call it off any request
     * thread. Only once the job leads a session of its own: before setsid ran, the process still shares the node's
     * autogroup, and writing then would lower the node itself. The session id says so, not the autogroup's name: a
     * node in the kernel's default autogroup (a session never made by setsid, as under some runners) is shown none,
     * like its children before their setsid, and the name cannot tell the two apart.
     */
    void apply(long jobId, Process process) {
        if (nice == 0 || !Files.exists(self)) return;
        String own = read(self);
        Path file = Path.of("/proc", Long.toString(process.pid()), "autogroup");
        long start = System.nanoTime();
        String error;
        while (true) {
            if (!process.isAlive()) return; // ended already: nothing to lower
            if (!leadsSession(process)) {
                if (System.nanoTime() - start > SESSION_WAIT_NANOS) {
                    error = "it is still in the node's own session";
                    break;
                }
                if (!pause(2)) return;
                continue;
            }
            String current = read(file);
            if (current == null) return; // ended meanwhile
            if (current.isEmpty()) {
                // exiting (the kernel then shows no autogroup), or a kernel that shows none for the processes this
                // node starts (seen in a CI sandbox): nothing to write either way
                if (!childrenWithoutAutogroupLogged.getAndSet(true)) {
                    LOG.info(
                            "job {}: the kernel shows launched jobs no scheduler autogroup here; they run at process"
                                    + " nice {} only",
                            jobId,
                            nice);
                }
                return;
            }
            if (own == null) {
                error = "cannot read the node's own autogroup";
                break;
            }
            if (!own.isEmpty() && name(current).equals(name(own))) {
                error = "it leads a session but shares the node's autogroup";
                break;
            }
            error = write(file);
            if (error == null) return;
            if (!error.contains("temporarily unavailable") || System.nanoTime() - start > RETRY_NANOS) break;
            // the limit is machine-wide: spread concurrent launches
            if (!pause(110 + (long) (Math.random() * 50))) return;
        }
        failed.incrementAndGet();
        LOG.warn(
                "job {}: cannot give its session's autogroup nice {} ({}): it runs at process nice {} only and, where"
                        + " autogroups apply, competes with the node for the CPU as an equal",
                jobId,
                nice,
                error,
                nice);
    }

    /** Whether setsid ran: the session id (field 4 after "(comm)" of /proc/<pid>/stat) is the process's own pid. */
    private static boolean leadsSession(Process process) {
        String stat = read(Path.of("/proc", Long.toString(process.pid()), "stat"));
        if (stat == null) return false;
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 5);
        return fields.length > 3 && fields[3].equals(Long.toString(process.pid()));
    }

    /** "/autogroup-123 nice 0" → "/autogroup-123". */
    private static String name(String line) {
        int space = line.indexOf(' ');
        return space < 0 ? line : line.substring(0, space);
    }

    /** Null when done, else why not. FileOutputStream, as it reports the write's errno (EAGAIN, EPERM). */
    private String write(Path file) {
        try (FileOutputStream out = new FileOutputStream(file.toFile())) {
            out.write(Integer.toString(nice).getBytes(StandardCharsets.US_ASCII));
            return null;
        } catch (IOException e) {
            return String.valueOf(e.getMessage());
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /** False when interrupted (the launcher closes and kills its jobs): stop trying. */
    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
