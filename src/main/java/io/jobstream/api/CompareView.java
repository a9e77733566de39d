package io.jobstream.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code GET /api/v2/jobs/{a}/compare/{b}/} (SPEC §11): what differs between two runs. Tasks are matched by
 * (play, task name, ordinal): the ordinal counts the earlier tasks of the same play and name in its run, because
 * task uuids are new in every run. For each task in both runs and each host in both runs, a difference is a host
 * whose status (ok, changed, failed, skipped, unreachable; running or incomplete while unfinished; null when the
 * host has no result for that task in that run) is not the same. Tasks and hosts present in one run only are
 * listed on their own and not repeated as differences. Differences are paged ({@code page}, {@code page_size} up
 * to 200, default 25) in the order of run a's tasks, hosts by name. Called on request threads.
 */
final class CompareView {
    private static final Set<String> PARAMS = Set.of("page", "page_size", "host_name");

    private final RunCache runs;

    CompareView(RunCache runs) {
        this.runs = runs;
    }

    record Difference(RunModel.Task task, String host, String a, String b) {}

    /** The comparison of two runs, whole; the view pages its differences. */
    record Result(
            List<RunModel.Task> onlyA,
            List<RunModel.Task> onlyB,
            List<String> hostsOnlyA,
            List<String> hostsOnlyB,
            int tasksCompared,
            List<Difference> differences) {}

    static Result compare(RunModel a, RunModel b, String hostFilter) {
        Map<String, RunModel.Task> tasksB = new LinkedHashMap<>();
        for (RunModel.Task t : b.tasks()) tasksB.putIfAbsent(t.key(), t);
        Set<String> keysA = new TreeSet<>();
        List<RunModel.Task> onlyA = new ArrayList<>();
        List<Difference> diffs = new ArrayList<>();
        TreeSet<String> common = new TreeSet<>(a.hosts());
        common.retainAll(b.hosts());
        if (hostFilter != null) common.retainAll(Set.of(hostFilter));
        int compared = 0;
        for (RunModel.Task ta : a.tasks()) {
            if (!keysA.add(ta.key())) continue;
            RunModel.Task tb = tasksB.get(ta.key());
            if (tb == null) {
                onlyA.add(ta);
                continue;
            }
            compared++;
            for (String h : common) {
                String sa = status(ta.hosts.get(h), a);
                String sb = status(tb.hosts.get(h), b);
                if (sa == null ? sb != null : !sa.equals(sb)) diffs.add(new Difference(ta, h, sa, sb));
            }
        }
        List<RunModel.Task> onlyB = new ArrayList<>();
        for (RunModel.Task tb : tasksB.values()) if (!keysA.contains(tb.key())) onlyB.add(tb);
        TreeSet<String> hostsOnlyA = new TreeSet<>(a.hosts());
        hostsOnlyA.removeAll(b.hosts());
        TreeSet<String> hostsOnlyB = new TreeSet<>(b.hosts());
        hostsOnlyB.removeAll(a.hosts());
        return new Result(onlyA, onlyB, new ArrayList<>(hostsOnlyA), new ArrayList<>(hostsOnlyB), compared, diffs);
    }

    private static String status(RunModel.HostRun h, RunModel run) {
        if (h == null) return null;
        if (h.result != null) return h.result;
        return run.hasStats() ? RunModel.INCOMPLETE : RunModel.RUNNING;
    }

    void handle(Context ctx, JobView a, JobView b) {
        StrictParams p = new StrictParams(ctx.queryParamMap(), PARAMS, "compare");
        int size = p.pageSize(TimelineView.DEFAULT_PAGE_SIZE);
        int page = p.page();
        String host = p.word("host_name", 1024);
        // b's model copied under its lock, then compared under a's: never two locks at once
        RunModel mb = a.id() == b.id() ? null : runs.with(b, RunModel::copy);
        Result r = runs.with(a, ma -> compare(ma, mb == null ? ma : mb, host));
        List<Difference> diffs = r.differences();
        int from = (int) Math.min((long) (page - 1) * size, diffs.size());
        if (page > 1 && from >= diffs.size()) throw ApiError.invalidPage();
        int to = Math.min(diffs.size(), from + size);
        EventsView.json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            job(g, "a", a);
            job(g, "b", b);
            g.writeStringField("task_matching", "play + task name + ordinal of that play and name in the run");
            g.writeNumberField("tasks_compared", r.tasksCompared());
            tasks(g, "tasks_only_in_a", r.onlyA());
            tasks(g, "tasks_only_in_b", r.onlyB());
            strings(g, "hosts_only_in_a", r.hostsOnlyA());
            strings(g, "hosts_only_in_b", r.hostsOnlyB());
            g.writeNumberField("count", diffs.size());
            String next = PageLinks.next(ctx.path(), ctx.queryString(), page, size, diffs.size());
            String prev = PageLinks.previous(ctx.path(), ctx.queryString(), page);
            if (next == null) g.writeNullField("next");
            else g.writeStringField("next", next);
            if (prev == null) g.writeNullField("previous");
            else g.writeStringField("previous", prev);
            g.writeArrayFieldStart("differences");
            for (Difference d : diffs.subList(from, to)) {
                g.writeStartObject();
                g.writeStringField("play", d.task().play);
                g.writeStringField("task", d.task().name);
                g.writeNumberField("ordinal", d.task().ordinal);
                g.writeStringField("host_name", d.host());
                g.writeStringField("a", d.a());
                g.writeStringField("b", d.b());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    private static void job(JsonGenerator g, String name, JobView j) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("id", j.id());
        g.writeStringField("name", j.name());
        g.writeStringField("playbook", j.playbook());
        g.writeStringField("status", j.status());
        ApiJson.writeTime(g, "started", j.started());
        ApiJson.writeTime(g, "finished", j.finished());
        g.writeEndObject();
    }

    private static void tasks(JsonGenerator g, String name, List<RunModel.Task> tasks) throws IOException {
        g.writeArrayFieldStart(name);
        for (RunModel.Task t : tasks) {
            g.writeStartObject();
            g.writeStringField("play", t.play);
            g.writeStringField("task", t.name);
            g.writeNumberField("ordinal", t.ordinal);
            g.writeStringField("uuid", t.uuid);
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void strings(JsonGenerator g, String name, List<String> values) throws IOException {
        g.writeArrayFieldStart(name);
        for (String v : values) g.writeString(v);
        g.writeEndArray();
    }
}
