package io.jobstream.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * A job's tasks in order and, per task, what each host did: built from the job's {@link RunRow}s in one pass, for
 * the timeline, the live host summaries and compare.
 *
 * <p>A host's result for a task is its last {@code runner_on_*} result event of that task (loop items are summed up
 * by the final result AWX and Ansible emit); its start is its {@code runner_on_start}. Events are tied to their
 * task by uuid (a result's parent uuid is its task's uuid), not by position, so the {@code free} strategy's
 * interleaved results land on the right task. Tasks are matched across runs by (play, task name, ordinal), the
 * ordinal counting earlier tasks of the same play and name in the run (uuids differ per run). Not thread-safe:
 * one per request.
 */
final class RunModel implements Consumer<RunRow> {
    private static final Set<String> ACTIVE_STATUSES = Set.of("new", "pending", "waiting", "running");

    static final String OK = "ok";
    static final String CHANGED = "changed";
    static final String FAILED = "failed";
    static final String SKIPPED = "skipped";
    static final String UNREACHABLE = "unreachable";
    static final String RUNNING = "running";
    /** Started, no result, and the job has ended: the result never came (a killed run, lost events). */
    static final String INCOMPLETE = "incomplete";

    /** One host on one task; micros are epoch microseconds, -1 when unknown. */
    static final class HostRun {
        final String host;
        long start = -1;
        long end = -1;
        /** null while only started */
        String result;
        /** a failure with ignore_errors (the event is not marked failed) */
        boolean ignored;

        HostRun(String host) {
            this.host = host;
        }
    }

    static final class Task {
        final String uuid;
        final String play;
        final String name;
        final int ordinal;
        final int counter;
        final long start;
        final Map<String, HostRun> hosts = new LinkedHashMap<>();

        Task(String uuid, String play, String name, int ordinal, int counter, long start) {
            this.uuid = uuid;
            this.play = play;
            this.name = name;
            this.ordinal = ordinal;
            this.counter = counter;
            this.start = start;
        }

        /** Across runs: play, name and how many earlier tasks of the run had the same play and name. */
        String key() {
            return play + '\u0000' + name + '\u0000' + ordinal;
        }
    }

    private final List<Task> tasks = new ArrayList<>();
    private final Map<String, Task> byUuid = new HashMap<>();
    private final Map<String, Integer> ordinals = new HashMap<>();
    private final TreeSet<String> hosts = new TreeSet<>();
    private long lastMicros = -1;
    private boolean stats;
    private int rows;
    private int maxCounter;
    private long hostRuns;

    /** Rows must come in counter order, each counter once (the reader's order; see {@link RunCache}). */
    @Override
    public void accept(RunRow r) {
        rows++;
        maxCounter = Math.max(maxCounter, r.counter());
        lastMicros = Math.max(lastMicros, r.createdMicros());
        String e = r.event();
        if (e.equals("playbook_on_task_start") || e.equals("playbook_on_handler_task_start")) {
            if (byUuid.containsKey(r.taskUuid())) return; // a task started again (include loops): first start counts
            String k = r.play() + '\u0000' + r.task();
            int ordinal = ordinals.merge(k, 1, Integer::sum);
            Task t = new Task(r.taskUuid(), r.play(), r.task(), ordinal, r.counter(), r.createdMicros());
            tasks.add(t);
            if (!r.taskUuid().isEmpty()) byUuid.put(r.taskUuid(), t);
            return;
        }
        if (e.equals("playbook_on_stats")) {
            stats = true;
            return;
        }
        if (r.hostName().isEmpty() || !e.startsWith("runner_on_")) return;
        Task t = byUuid.get(r.taskUuid());
        if (t == null) return; // a result of no task this run started (lost start event): nowhere to show it
        hosts.add(r.hostName());
        HostRun h = t.hosts.get(r.hostName());
        if (h == null) {
            h = new HostRun(r.hostName());
            t.hosts.put(r.hostName(), h);
            hostRuns++;
        }
        String result = result(e, r);
        if (e.equals("runner_on_start")) {
            if (h.start < 0) h.start = r.createdMicros();
        } else if (result != null) {
            h.result = result;
            h.ignored = e.equals("runner_on_failed") && !r.failed();
            h.end = r.createdMicros();
        }
    }

    private static String result(String e, RunRow r) {
        return switch (e) {
            case "runner_on_ok", "runner_on_async_ok" -> r.changed() ? CHANGED : OK;
            case "runner_on_failed", "runner_on_error", "runner_on_async_failed" -> FAILED;
            case "runner_on_skipped" -> SKIPPED;
            case "runner_on_unreachable" -> UNREACHABLE;
            default -> null; // runner_on_start, runner_on_async_poll, runner_on_file_diff, runner_on_no_hosts
        };
    }

    /**
     * Restores a task read back by {@link RunModelCodec}, in run order, with its host results: what {@link #accept}
     * would have made of the task's rows (its ordinal and the result count follow from the tasks).
     */
    void restoreTask(Task t) {
        tasks.add(t);
        if (!t.uuid.isEmpty()) byUuid.put(t.uuid, t);
        ordinals.merge(t.play + '\u0000' + t.name, 1, Integer::sum);
        hostRuns += t.hosts.size();
    }

    /**
     * Restores the host set and the counts read back by {@link RunModelCodec}, after its tasks (the set once, not
     * a tree insertion per task and host: 200,000 for 1,000 × 200).
     */
    void restoreCounts(java.util.Collection<String> hosts, int rows, int maxCounter, long lastMicros, boolean stats) {
        this.hosts.addAll(hosts);
        this.rows = rows;
        this.maxCounter = maxCounter;
        this.lastMicros = lastMicros;
        this.stats = stats;
    }

    /** A copy that shares nothing mutable with this model: to use one job's model while holding another's lock. */
    RunModel copy() {
        RunModel c = new RunModel();
        for (Task t : tasks) {
            Task n = new Task(t.uuid, t.play, t.name, t.ordinal, t.counter, t.start);
            for (HostRun h : t.hosts.values()) {
                HostRun hc = new HostRun(h.host);
                hc.start = h.start;
                hc.end = h.end;
                hc.result = h.result;
                hc.ignored = h.ignored;
                n.hosts.put(h.host, hc);
            }
            c.tasks.add(n);
            if (!t.uuid.isEmpty()) c.byUuid.put(t.uuid, n);
        }
        c.ordinals.putAll(ordinals);
        c.hosts.addAll(hosts);
        c.lastMicros = lastMicros;
        c.stats = stats;
        c.rows = rows;
        c.maxCounter = maxCounter;
        c.hostRuns = hostRuns;
        return c;
    }

    List<Task> tasks() {
        return tasks;
    }

    /** Every host that has an event on some task, sorted. */
    TreeSet<String> hosts() {
        return hosts;
    }

    boolean hasStats() {
        return stats;
    }

    /**
     * Whether the run may still grow, so its hosts without a result are running rather than incomplete: the job is
     * not finished and no stats event closed the play (the timeline and the matrix both ask).
     */
    boolean stillRunning(String jobStatus) {
        return ACTIVE_STATUSES.contains(jobStatus) && !stats;
    }

    /** Rows applied: the job's stored events up to {@link #maxCounter()}, when none came late. */
    int rows() {
        return rows;
    }

    int maxCounter() {
        return maxCounter;
    }

    /** Tasks and host results held: what this model weighs in {@link RunCache}. */
    long size() {
        return tasks.size() + hostRuns;
    }

    /** The newest event's created time (epoch micros), -1 without events. */
    long lastMicros() {
        return lastMicros;
    }
}
