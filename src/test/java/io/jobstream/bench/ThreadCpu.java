package io.jobstream.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A process's CPU per thread group, from {@code /proc/<pid>/task/<tid>/stat}, with the part spent in the kernel: a
 * node's "µs per message" says little when it takes whatever the machine leaves it, while its senders' system time
 * (a loopback write does the receiving side's work too), the compiler's and the collector's say where it went
 * (docs/BENCHMARKS.md §2d). Linux keeps 15 characters of a Java thread's name; digits are dropped so that e.g.
 * Jetty's numbered threads add up.
 */
final class ThreadCpu {
    /** Ticks of one thread group: user + system, and system alone. */
    record Ticks(long total, long system) {
        Ticks plus(Ticks o) {
            return new Ticks(total + o.total, system + o.system);
        }
    }

    private ThreadCpu() {}

    /** Every thread group's ticks at this moment; empty when not Linux or the process is gone. */
    static Map<String, Ticks> of(long pid) {
        Map<String, Ticks> ticks = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+", "#");
                    long[] f = ProcessCpu.stat(task.resolve("stat"));
                    if (f != null) ticks.merge(name, new Ticks(f[0] + f[1], f[1]), Ticks::plus);
                } catch (Exception gone) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (Exception e) {
            // not Linux, or the process is gone: no breakdown
        }
        return ticks;
    }

    /**
     * Prints the ten busiest thread groups between two moments (a thread that ended in between is missed): CPU seconds,
     * the share of them in the kernel, and µs per {@code unit} over {@code units}.
     */
    static void print(String title, Map<String, Ticks> from, Map<String, Ticks> to, double units, String unit) {
        List<Map.Entry<String, Ticks>> used = new ArrayList<>();
        for (Map.Entry<String, Ticks> e : to.entrySet()) {
            Ticks before = from.getOrDefault(e.getKey(), new Ticks(0, 0));
            used.add(Map.entry(
                    e.getKey(),
                    new Ticks(
                            e.getValue().total() - before.total(), e.getValue().system() - before.system())));
        }
        used.sort((a, b) -> Long.compare(b.getValue().total(), a.getValue().total()));
        System.out.printf("%s (CPU s, in the kernel, µs per %s; digits in names shown as #):%n", title, unit);
        for (Map.Entry<String, Ticks> e : used.subList(0, Math.min(10, used.size()))) {
            if (e.getValue().total() <= 0) break;
            double seconds = e.getValue().total() / ProcessCpu.HZ;
            System.out.printf(
                    "  %-16s %6.1f s %4.0f%% %8.2f µs/%s%n",
                    e.getKey(),
                    seconds,
                    100.0 * e.getValue().system() / e.getValue().total(),
                    units <= 0 ? 0 : seconds / units * 1e6,
                    unit);
        }
    }
}
