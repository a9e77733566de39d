package io.jobstream.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.javalin.http.Context;
import io.jobstream.event.Timestamps;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * {@code GET /api/v2/jobs/{id}/timeline/} (SPEC §11): the job's tasks in order, each with its start, end and
 * duration and, per host, the host's status, start and end. Paged by task ({@code page}, {@code page_size} up to
 * 200, default 25); {@code order_by=-duration} lists the slowest tasks first (like {@code profile_tasks});
 * {@code hosts=0} leaves out the per-host entries.
 *
 * <p>A task's end is its last host's result; while a host of it has started and has no result yet, the task and
 * that host are {@code running}, with {@code elapsed} seconds up to now, and the task's {@code end} is null.
 *
 * <p>The slow-host rule: on a task where at least {@value #SLOW_PEERS} hosts have finished, a host is
 * {@code slow} when its duration (or its elapsed time, while running) is more than {@value #SLOW_FACTOR} times the
 * median duration of the hosts that finished, and at least {@value #SLOW_MIN_SECONDS} seconds more than it (so that
 * 30 ms against 5 ms is not flagged). Called on request threads; the job's model comes from {@link RunCache}.
 *
 * <p>A finished job's answer has an ETag (a poll with it is a 304) and is kept once written
 * ({@link RenderedBodies}): the full SPEC shape of 1,000 hosts × 200 tasks is 28.9 MB of JSON, too long to write
 * again within the 300 ms an answer has.
 */
final class TimelineView {
    static final int SLOW_PEERS = 3;
    static final int SLOW_FACTOR = 3;
    static final int SLOW_MIN_SECONDS = 2;
    static final int DEFAULT_PAGE_SIZE = 25;
    private static final Set<String> PARAMS = Set.of("page", "page_size", "order_by", "hosts");

    private final RunCache runs;
    private final Clock clock;
    private final RenderedBodies bodies = new RenderedBodies();

    TimelineView(RunCache runs, Clock clock) {
        this.runs = runs;
        this.clock = clock;
    }

    /** A task's times as the response shows them, computed once for sorting and writing. */
    private record Row(RunModel.Task task, long end, double duration, boolean running) {}

    void handle(Context ctx, JobView job) {
        StrictParams p = new StrictParams(ctx.queryParamMap(), PARAMS, "the timeline");
        int size = p.pageSize(DEFAULT_PAGE_SIZE);
        int page = p.page();
        String order = p.text("order_by");
        if (order != null && !order.equals("counter") && !order.equals("-duration"))
            throw ApiError.badRequest(
                    "order_by must be counter or -duration, was '" + StrictParams.shorten(order) + "'");
        Boolean withHosts = p.bool("hosts");
        boolean hosts = withHosts == null || withHosts;

        String ifNoneMatch = ctx.header("If-None-Match");
        byte[] body = runs.with(job, model -> {
            if (model.stillRunning(job.status())) return render(ctx, job, model, size, page, order, hosts);
            // finished: the answer changes only with the model and the request (and now): an ETag, and kept bytes
            String request = ctx.path() + '?' + (ctx.queryString() == null ? "" : ctx.queryString());
            String etag = etag(job, model, request);
            ctx.header("ETag", etag);
            ctx.header("Cache-Control", "private, no-cache");
            if (MatrixView.matches(ifNoneMatch, etag)) return null;
            String key = etag + '\u0000' + request;
            byte[] kept = bodies.get(key, new MicrosTime().format(Timestamps.micros(clock.instant())));
            if (kept != null) return kept;
            byte[] rendered = render(ctx, job, model, size, page, order, hosts);
            bodies.put(key, rendered);
            return rendered;
        });
        if (body == null) ctx.status(304);
        else EventsView.json(ctx, body);
    }

    /** A finished job's answer to {@code request}: its model's tag ({@link MatrixView#etag}) and the request's. */
    static String etag(JobView job, RunModel model, String request) {
        String m = MatrixView.etag(job, model, false, 0);
        long h = 0xcbf29ce484222325L; // FNV-1a, 64 bits: path and query told apart without putting them in a header
        for (int i = 0; i < request.length(); i++) h = (h ^ request.charAt(i)) * 0x100000001b3L;
        return "\"t" + m.substring(2, m.length() - 1) + '-' + Long.toHexString(h) + '"';
    }

    private byte[] render(Context ctx, JobView job, RunModel model, int size, int page, String order, boolean hosts) {
        boolean active = model.stillRunning(job.status());
        long now = Timestamps.micros(clock.instant());
        List<Row> rows = new ArrayList<>(model.tasks().size());
        for (RunModel.Task t : model.tasks()) rows.add(row(t, active, now));
        if ("-duration".equals(order))
            rows.sort(Comparator.comparingDouble(Row::duration).reversed().thenComparingInt(r -> r.task().counter));
        int from = (int) Math.min((long) (page - 1) * size, rows.size());
        if (page > 1 && from >= rows.size()) throw ApiError.invalidPage();
        List<Row> shown = rows.subList(from, Math.min(rows.size(), from + size));
        return ApiJson.bytes(g -> {
            MicrosTime time = new MicrosTime();
            g.writeStartObject();
            g.writeNumberField("job", job.id());
            g.writeStringField("status", job.status());
            g.writeBooleanField("running", active);
            g.writeStringField("now", time.format(now));
            g.writeStringField(
                    "slow_rule",
                    "duration > " + SLOW_FACTOR + " x median of the task's finished hosts and >= median + "
                            + SLOW_MIN_SECONDS + " s, when at least " + SLOW_PEERS + " hosts finished");
            g.writeNumberField("host_count", model.hosts().size());
            g.writeNumberField("count", rows.size());
            link(
                    g,
                    "next",
                    from + size < rows.size() ? PageLinks.withPage(ctx.path(), ctx.queryString(), page + 1) : null);
            link(g, "previous", page > 1 ? PageLinks.withPage(ctx.path(), ctx.queryString(), page - 1) : null);
            g.writeArrayFieldStart("tasks");
            for (Row r : shown) writeTask(g, r, hosts, active, now, time);
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static Row row(RunModel.Task t, boolean active, long now) {
        long end = t.start;
        boolean running = false;
        for (RunModel.HostRun h : t.hosts.values()) {
            if (h.result == null) running |= active;
            else end = Math.max(end, h.end);
        }
        double duration = seconds((running ? Math.max(now, end) : end) - t.start);
        return new Row(t, running ? -1 : end, duration, running);
    }

    private static void writeTask(JsonGenerator g, Row r, boolean hosts, boolean active, long now, MicrosTime time)
            throws IOException {
        RunModel.Task t = r.task();
        g.writeStartObject();
        g.writeStringField("uuid", t.uuid);
        g.writeStringField("play", t.play);
        g.writeStringField("task", t.name);
        g.writeNumberField("ordinal", t.ordinal);
        g.writeNumberField("counter", t.counter);
        g.writeStringField("start", time.format(t.start));
        if (r.end() < 0) g.writeNullField("end");
        else g.writeStringField("end", time.format(r.end()));
        g.writeNumberField("duration", r.duration());
        g.writeBooleanField("running", r.running());
        int[] counts = new int[7];
        double median = median(t);
        g.writeNumberField("host_count", t.hosts.size());
        if (hosts) g.writeArrayFieldStart("hosts");
        for (RunModel.HostRun h : t.hosts.values()) {
            String status = h.result != null ? h.result : active ? RunModel.RUNNING : RunModel.INCOMPLETE;
            counts[statusIndex(status)]++;
            if (!hosts) continue;
            long start = h.start >= 0 ? h.start : t.start; // no runner_on_start (emitters that skip it)
            g.writeStartObject();
            g.writeStringField("host_name", h.host);
            g.writeStringField("status", status);
            if (h.ignored) g.writeBooleanField("ignored", true);
            g.writeStringField("start", time.format(start));
            double d;
            if (h.result != null) {
                g.writeStringField("end", time.format(h.end));
                d = seconds(h.end - start);
                g.writeNumberField("duration", d);
            } else {
                g.writeNullField("end");
                d = seconds(Math.max(0, now - start));
                if (active) g.writeNumberField("elapsed", d);
            }
            g.writeBooleanField("slow", (h.result != null || active) && slow(d, median));
            g.writeEndObject();
        }
        if (hosts) g.writeEndArray();
        g.writeObjectFieldStart("counts");
        for (int i = 0; i < STATUSES.length; i++) g.writeNumberField(STATUSES[i], counts[i]);
        g.writeEndObject();
        g.writeEndObject();
    }

    private static final String[] STATUSES = {
        RunModel.OK,
        RunModel.CHANGED,
        RunModel.FAILED,
        RunModel.SKIPPED,
        RunModel.UNREACHABLE,
        RunModel.RUNNING,
        RunModel.INCOMPLETE
    };

    private static int statusIndex(String status) {
        for (int i = 0; i < STATUSES.length; i++) if (STATUSES[i].equals(status)) return i;
        throw new IllegalStateException(status);
    }

    /** The median duration (s) of the task's finished hosts, NaN with fewer than {@link #SLOW_PEERS}. */
    static double median(RunModel.Task t) {
        double[] d = new double[t.hosts.size()];
        int n = 0;
        for (RunModel.HostRun h : t.hosts.values()) {
            if (h.result != null) d[n++] = seconds(h.end - (h.start >= 0 ? h.start : t.start));
        }
        if (n < SLOW_PEERS) return Double.NaN;
        Arrays.sort(d, 0, n);
        return n % 2 == 1 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
    }

    static boolean slow(double seconds, double median) {
        return !Double.isNaN(median) && seconds > SLOW_FACTOR * median && seconds - median >= SLOW_MIN_SECONDS;
    }

    static double seconds(long micros) {
        return micros / 1_000_000.0;
    }

    private static void link(JsonGenerator g, String name, String link) throws IOException {
        if (link == null) g.writeNullField(name);
        else g.writeStringField(name, link);
    }
}
