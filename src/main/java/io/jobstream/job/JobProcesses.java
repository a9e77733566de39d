package io.jobstream.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every process of one job: ansible-playbook and all it started. ansible-playbook forks a worker per host and task,
 * modules fork their commands, and a signal to the main process alone leaves them running (re-parented to init).
 * So a job runs in a process group of its own (started through {@code setsid}, its pid is the group id), and signals
 * go to the whole group. Some descendants leave the group on purpose: Ansible's {@code async_wrapper} daemonizes
 * with {@code setsid()} so an {@code async} task outlives its worker. Every descendant keeps the environment,
 * though, so each job's processes also carry a marker, {@code JOBSTREAM_RUN=<random>}, and a process whose
 * environment holds it belongs to the job wherever it went. (A cgroup would hold them all, but needs privileges a
 * node may not have; a process that both leaves the group and clears its environment escapes, which only the
 * playbook's author, who is trusted, can make happen.)
 *
 * <p>Linux only: reads {@code /proc/<pid>/stat} and {@code /proc/<pid>/environ} (readable for the node's own
 * processes) and signals with {@code kill}.
 */
final class JobProcesses {
    private static final Logger LOG = LoggerFactory.getLogger(JobProcesses.class);
    private static final Path PROC = Path.of("/proc");
    static final String MARKER_VARIABLE = "JOBSTREAM_RUN";

    private final long jobId;
    private final long groupId;
    private final byte[] marker;

    /** No process group known: the job's processes are found by their marker alone. */
    private static final long NO_GROUP = 0;

    /** @param groupId the pid of the process started through setsid */
    JobProcesses(long jobId, long groupId, String markerValue) {
        this(markerValue, jobId, requireGroup(groupId));
    }

    private JobProcesses(String markerValue, long jobId, long groupId) {
        this.jobId = jobId;
        this.groupId = groupId;
        this.marker = (MARKER_VARIABLE + "=" + markerValue + "\0").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The processes of a run that an earlier node started, by their marker alone: its process group's number is not
     * kept, and once every member is gone the kernel may give that number to anything.
     */
    static JobProcesses byMarker(long jobId, String markerValue) {
        return new JobProcesses(markerValue, jobId, NO_GROUP);
    }

    /** "kill -- -1" signals every process the node's user has; a group of 0 would match the kernel's threads. */
    private static long requireGroup(long groupId) {
        if (groupId <= 0) throw new IllegalArgumentException("not a process group: " + groupId);
        return groupId;
    }

    /**
     * Asks the job to stop: SIGINT now (ansible-playbook then stops its workers and exits, and the plugin sends its
     * EOF), SIGTERM after {@code grace} and SIGKILL after as long again, each only if some process still runs.
     */
    void cancel(ScheduledExecutorService timer, Duration grace) {
        signal("INT");
        long millis = grace.toMillis();
        timer.schedule(
                () -> {
                    if (!alive().isEmpty()) {
                        LOG.warn("job {}: processes still running {} ms after SIGINT, sending SIGTERM", jobId, millis);
                        signal("TERM");
                    }
                },
                millis,
                TimeUnit.MILLISECONDS);
        timer.schedule(
                () -> {
                    if (!alive().isEmpty()) {
                        LOG.warn("job {}: processes still running after SIGTERM, killing them", jobId);
                        signal("KILL");
                    }
                },
                2 * millis,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Waits for ansible-playbook to exit, then ends whatever of the job outlives it (forks and async tasks can): the
     * slot is free only when all of the job is gone. Returns the exit code. When interrupted while ansible-playbook
     * runs (only the launcher's close does that), kills every process of the job and throws.
     */
    int waitForAll(Process process, Duration grace) throws InterruptedException {
        int exit;
        try {
            exit = process.waitFor();
        } catch (InterruptedException e) {
            signal("KILL");
            throw e;
        }
        try {
            endRemaining(grace);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            signal("KILL");
        }
        return exit;
    }

    /** The pids of the job's processes still alive (zombies not counted: they are already gone but for a wait). */
    List<Long> alive() {
        return scan(null);
    }

    /** As {@link #alive()}; adds to {@code outside} (when given) those that are not in the job's process group. */
    private List<Long> scan(List<Long> outside) {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> dir =
                Files.newDirectoryStream(PROC, p -> isPid(p.getFileName().toString()))) {
            for (Path p : dir) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (pid == ProcessHandle.current().pid()) continue;
                Stat stat = stat(p);
                if (stat == null || stat.state == 'Z' || stat.state == 'X') continue;
                if (groupId != NO_GROUP && stat.groupId == groupId) {
                    pids.add(pid);
                } else if (hasMarker(p)) {
                    pids.add(pid);
                    if (outside != null) outside.add(pid);
                }
            }
        } catch (IOException e) {
            LOG.warn("job {}: cannot list processes: {}", jobId, e.getMessage());
        }
        return pids;
    }

    /** Sends {@code signal} (INT, TERM, KILL) to the group and to every marked process outside it; false if none is left. */
    boolean signal(String signal) {
        List<Long> outside = new ArrayList<>();
        List<Long> pids = scan(outside);
        if (pids.isEmpty()) return false;
        List<String> cmd = new ArrayList<>(List.of("kill", "-s", signal, "--"));
        // The group as a whole, so that a process forked since the scan gets it too; only while a member is seen, as
        // the kernel may reuse an empty group's number. Its members are not named again: a second SIGINT reaches
        // ansible-playbook while it handles the first, and interrupts the plugin sending its last events and EOF.
        if (groupId != NO_GROUP && pids.size() > outside.size()) cmd.add("-" + groupId);
        for (long pid : outside) cmd.add(Long.toString(pid));
        try {
            // the JDK sends only TERM and KILL, and only to single processes; kill(1) reaches a group. Its exit code
            // is not 0 when some target is already gone, which is fine.
            Process kill = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!kill.waitFor(5, TimeUnit.SECONDS)) kill.destroyForcibly();
        } catch (IOException e) {
            LOG.warn("job {}: cannot run kill: {}; sending SIGKILL through the JDK", jobId, e.getMessage());
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    /** Waits up to {@code timeout} for every process of the job to be gone; true if they are. */
    boolean awaitGone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (alive().isEmpty()) return true;
            if (System.nanoTime() - deadline >= 0) return false;
            Thread.sleep(100);
        }
    }

    /**
     * Ends what is left of the job after its main process exited: SIGTERM, then SIGKILL after {@code grace}, and waits
     * until nothing is left (a process in uninterruptible sleep can take a while to die; bounded, then logged).
     */
    void endRemaining(Duration grace) throws InterruptedException {
        List<Long> left = alive();
        if (left.isEmpty()) return;
        LOG.info(
                "job {}: {} process(es) of the job still running after ansible-playbook ended ({}): stopping them",
                jobId,
                left.size(),
                left);
        if (!terminate(grace)) {
            LOG.error(
                    "job {}: processes {} survive SIGKILL (uninterruptible?); freeing the job's slot anyway",
                    jobId,
                    alive());
        }
    }

    /**
     * SIGTERM, then SIGKILL after {@code grace}, and waits until nothing of the job is left (a process in
     * uninterruptible sleep can take a while to die: at most 30 s); false when some survive.
     */
    boolean terminate(Duration grace) throws InterruptedException {
        signal("TERM");
        if (awaitGone(grace)) return true;
        signal("KILL");
        return awaitGone(Duration.ofSeconds(30));
    }

    private record Stat(char state, long groupId) {}

    /** State and process group from {@code /proc/<pid>/stat}: "pid (comm) state ppid pgrp …", comm may hold anything. */
    private static Stat stat(Path proc) {
        try {
            String s = Files.readString(proc.resolve("stat"), StandardCharsets.ISO_8859_1);
            int close = s.lastIndexOf(')');
            String[] f = s.substring(close + 2).split(" ", 4);
            return new Stat(f[0].charAt(0), Long.parseLong(f[2]));
        } catch (IOException | RuntimeException e) {
            return null; // gone meanwhile, or not ours to read
        }
    }

    private boolean hasMarker(Path proc) {
        try {
            byte[] env = Files.readAllBytes(proc.resolve("environ"));
            outer:
            for (int i = 0; i + marker.length <= env.length; i++) {
                if (i > 0 && env[i - 1] != 0) continue; // only at the start of a NAME=value entry
                for (int j = 0; j < marker.length; j++) {
                    if (env[i + j] != marker[j]) continue outer;
                }
                return true;
            }
            return false;
        } catch (IOException e) {
            return false; // another user's process, or gone
        }
    }

    private static boolean isPid(String name) {
        if (name.isEmpty()) return false;
        for (int i = 0; i < name.length(); i++) if (!Character.isDigit(name.charAt(i))) return false;
        return true;
    }
}
