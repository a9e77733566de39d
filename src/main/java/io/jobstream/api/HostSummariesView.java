package io.jobstream.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code GET /api/v2/jobs/{id}/job_host_summaries/} in AWX's JobHostSummary shape, paged like AWX's lists and
 * ordered by host name. Once the job's {@code playbook_on_stats} event is stored the counts are its counts, as AWX
 * makes them; before it (a running job) they are counted from the host result events so far: {@code ok} and
 * {@code changed} from results (ok includes changed, as Ansible counts), {@code failures} and {@code ignored} from
 * failures with and without ignore_errors, {@code dark} from unreachables, {@code skipped}; {@code rescued} is 0
 * until the stats event. There is no host inventory, so {@code host} is null and {@code id} is the summary's
 * position in the job (1 = first host by name). Filters: {@code host_name}, {@code failed}.
 */
final class HostSummariesView {
    private static final Set<String> PARAMS = Set.of("page", "page_size", "host_name", "failed", "order_by");
    private static final String[] FIELDS = {
        "changed", "dark", "failures", "ignored", "ok", "processed", "rescued", "skipped"
    };

    private final RunReader runs;
    private final RunCache models;

    HostSummariesView(RunReader runs, RunCache models) {
        this.runs = runs;
        this.models = models;
    }

    private record Counted(Instant created, List<Summary> summaries) {}

    /** One host's counts, in {@link #FIELDS} order. */
    record Summary(String host, int[] counts) {
        int get(String field) {
            for (int i = 0; i < FIELDS.length; i++) if (FIELDS[i].equals(field)) return counts[i];
            throw new IllegalArgumentException(field);
        }

        boolean failed() {
            return get("dark") > 0 || get("failures") > 0;
        }
    }

    void handle(Context ctx, JobView job) {
        StrictParams p = new StrictParams(ctx.queryParamMap(), PARAMS, "job host summaries");
        int size = p.pageSize(QueryParams.DEFAULT_PAGE_SIZE);
        int page = p.page();
        String host = p.word("host_name", 1024);
        Boolean failed = p.bool("failed");
        String order = p.text("order_by");
        if (order != null && !order.equals("host_name") && !order.equals("-host_name"))
            throw ApiError.badRequest("order_by must be host_name or -host_name");

        Instant created;
        List<Summary> all;
        var stats = runs.stats(job.id());
        if (stats.isPresent()) {
            created = stats.get().created();
            all = fromStats(stats.get().eventData());
        } else {
            Counted counted = models.with(
                    job,
                    m -> new Counted(m.lastMicros() < 0 ? null : Timestamps.ofMicros(m.lastMicros()), fromEvents(m)));
            created = counted.created();
            all = counted.summaries();
        }
        List<Summary> numbered = all; // ids are positions in host-name order, before filtering
        List<Integer> ids = new ArrayList<>();
        List<Summary> kept = new ArrayList<>();
        for (int i = 0; i < numbered.size(); i++) {
            Summary s = numbered.get(i);
            if (host != null && !s.host().equals(host)) continue;
            if (failed != null && s.failed() != failed) continue;
            ids.add(i + 1);
            kept.add(s);
        }
        if ("-host_name".equals(order)) {
            java.util.Collections.reverse(kept);
            java.util.Collections.reverse(ids);
        }
        int from = (int) Math.min((long) (page - 1) * size, kept.size());
        if (page > 1 && from >= kept.size()) throw ApiError.invalidPage();
        int to = Math.min(kept.size(), from + size);
        EventsView.json(ctx, ApiJson.bytes(g -> {
            g.writeStartObject();
            g.writeNumberField("count", kept.size());
            String next = PageLinks.next(ctx.path(), ctx.queryString(), page, size, kept.size());
            String prev = PageLinks.previous(ctx.path(), ctx.queryString(), page);
            if (next == null) g.writeNullField("next");
            else g.writeStringField("next", next);
            if (prev == null) g.writeNullField("previous");
            else g.writeStringField("previous", prev);
            g.writeArrayFieldStart("results");
            for (int i = from; i < to; i++) write(g, job, ids.get(i), kept.get(i), created);
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    private static void write(com.fasterxml.jackson.core.JsonGenerator g, JobView job, int id, Summary s, Instant t)
            throws IOException {
        g.writeStartObject();
        g.writeNumberField("id", id);
        g.writeStringField("type", "job_host_summary");
        g.writeNullField("url");
        g.writeObjectFieldStart("related");
        g.writeStringField("job", "/api/v2/jobs/" + job.id() + "/");
        g.writeEndObject();
        g.writeObjectFieldStart("summary_fields");
        g.writeObjectFieldStart("host");
        g.writeStringField("name", s.host());
        g.writeEndObject();
        g.writeObjectFieldStart("job");
        g.writeNumberField("id", job.id());
        g.writeStringField("name", job.name());
        g.writeStringField("description", "");
        g.writeStringField("status", job.status());
        g.writeBooleanField("failed", job.failed());
        g.writeNumberField("elapsed", job.elapsedSeconds());
        g.writeStringField("type", "job");
        g.writeEndObject();
        g.writeEndObject();
        ApiJson.writeTime(g, "created", t);
        ApiJson.writeTime(g, "modified", t);
        g.writeNumberField("job", job.id());
        g.writeNullField("host");
        g.writeNullField("constructed_host");
        g.writeStringField("host_name", s.host());
        for (int i = 0; i < FIELDS.length; i++) g.writeNumberField(FIELDS[i], s.counts()[i]);
        g.writeBooleanField("failed", s.failed());
        g.writeEndObject();
    }

    /** The stats event's per-host dictionaries, as AWX's {@code update_host_summary_from_stats_event} reads them. */
    static List<Summary> fromStats(String eventData) {
        Map<String, int[]> byHost = new TreeMap<>();
        JsonNode data;
        try {
            data = Json.MAPPER.readTree(eventData);
        } catch (IOException e) {
            throw new ReadException("the playbook_on_stats event_data is not JSON", e);
        }
        for (int f = 0; f < FIELDS.length; f++) {
            JsonNode dict = data.path(FIELDS[f]);
            for (Iterator<Map.Entry<String, JsonNode>> it = dict.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                byHost.computeIfAbsent(e.getKey(), h -> new int[FIELDS.length])[f] =
                        e.getValue().asInt();
            }
        }
        List<Summary> out = new ArrayList<>(byHost.size());
        byHost.forEach((h, c) -> out.add(new Summary(h, c)));
        return out;
    }

    /** Counts so far, from each host's result on each task (a running job, or one whose stats never came). */
    static List<Summary> fromEvents(RunModel model) {
        Map<String, int[]> byHost = new TreeMap<>();
        for (String h : model.hosts()) byHost.put(h, new int[FIELDS.length]);
        for (RunModel.Task t : model.tasks()) {
            for (RunModel.HostRun h : t.hosts.values()) {
                int[] c = byHost.get(h.host);
                c[index("processed")] = 1;
                if (h.result == null) continue;
                switch (h.result) {
                    case RunModel.OK -> c[index("ok")]++;
                    case RunModel.CHANGED -> {
                        c[index("ok")]++;
                        c[index("changed")]++;
                    }
                    case RunModel.FAILED -> c[index(h.ignored ? "ignored" : "failures")]++;
                    case RunModel.SKIPPED -> c[index("skipped")]++;
                    case RunModel.UNREACHABLE -> c[index("dark")]++;
                    default -> {}
                }
            }
        }
        List<Summary> out = new ArrayList<>(byHost.size());
        byHost.forEach((h, c) -> out.add(new Summary(h, c)));
        return out;
    }

    private static int index(String field) {
        for (int i = 0; i < FIELDS.length; i++) if (FIELDS[i].equals(field)) return i;
        throw new IllegalArgumentException(field);
    }
}
