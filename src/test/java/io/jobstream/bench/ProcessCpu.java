package io.jobstream.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of processes from {@code /proc/<pid>/stat} (utime + stime), for the benchmarks that put the node, the
 * measuring client and a load or abusing client in processes of their own. Read by whichever thread samples; holds
 * nothing but the clock rate.
 */
final class ProcessCpu {
    /** USER_HZ: the unit of /proc's times, 100 on Linux. */
    static final double HZ = 100;

    private ProcessCpu() {}

    /** utime + stime of one process in ticks, or 0 when it is gone (or this is not Linux). */
    static long ticks(long pid) {
        long[] f = stat(pid);
        return f == null ? 0 : f[0] + f[1];
    }

    /**
     * utime + stime of a process, plus what its children that it has already reaped spent (cutime + cstime), plus the
     * live descendants' own time. The node's playbooks (ansible-playbook and its workers) are counted once they end
     * or while they run; a worker that outlives its reaped parent is lost to init, so this is a floor.
     */
    static long treeTicks(long pid) {
        return treeTicks(pid, -1);
    }

    /** As {@link #treeTicks(long)}, leaving out the live subtree under {@code except} (a separately counted child). */
    static long treeTicks(long pid, long except) {
        long[] f = stat(pid);
        if (f == null) return 0;
        long sum = f[0] + f[1] + f[2] + f[3];
        Map<Long, Long> parents = parents();
        for (Map.Entry<Long, Long> e : parents.entrySet()) {
            long child = e.getKey();
            if (child == pid || child == except || descends(child, except, parents)) continue;
            if (descends(child, pid, parents)) sum += ticks(child);
        }
        return sum;
    }

    /**
     * The embedded PostgreSQL of a node: its postmaster (found from {@code postmaster.pid} in its data directory) with
     * its reaped and live backends. zonky starts it through pg_ctl, so it is not the node JVM's descendant.
     */
    static long postgresTicks(Path pgData) {
        long postmaster = postmaster(pgData);
        return postmaster < 0 ? 0 : treeTicks(postmaster);
    }

    /** The postmaster's pid from {@code postmaster.pid}, or -1 when it is not running. */
    static long postmaster(Path pgData) {
        try {
            return Long.parseLong(
                    Files.readAllLines(pgData.resolve("postmaster.pid")).get(0).trim());
        } catch (Exception notRunning) {
            return -1;
        }
    }

    /** Busy ticks of the whole machine (all cores: user, nice, system, irq, softirq, steal), 0 if unreadable. */
    static long machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < f.length && i <= 8; i++) if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
            return busy;
        } catch (Exception e) {
            return 0;
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (Exception e) {
            return "unknown";
        }
    }

    private static boolean descends(long pid, long ancestor, Map<Long, Long> parents) {
        Long p = parents.get(pid);
        for (int depth = 0; p != null && p > 1 && depth < 64; depth++) {
            if (p == ancestor) return true;
            p = parents.get(p);
        }
        return false;
    }

    private static Map<Long, Long> parents() {
        Map<Long, Long> parents = new HashMap<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (name.isEmpty() || !name.chars().allMatch(Character::isDigit)) continue;
                long[] f = stat(Long.parseLong(name));
                if (f != null) parents.put(Long.parseLong(name), f[4]);
            }
        } catch (Exception e) {
            // no /proc: every figure is 0
        }
        return parents;
    }

    /** utime, stime, cutime, cstime, ppid of a process; null when it is gone. */
    private static long[] stat(long pid) {
        return stat(Path.of("/proc/" + pid + "/stat"));
    }

    /**
     * utime, stime, cutime, cstime, ppid from a {@code stat} file of /proc (a process's, or a thread's under
     * {@code task/}); null when it is gone.
     */
    static long[] stat(Path file) {
        try {
            String stat = Files.readString(file);
            // the command name may hold spaces and parentheses: fields are counted from the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[] {
                Long.parseLong(f[11]),
                Long.parseLong(f[12]),
                Long.parseLong(f[13]),
                Long.parseLong(f[14]),
                Long.parseLong(f[1])
            };
        } catch (Exception gone) {
            return null;
        }
    }
}
