package io.jobstream.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.javalin.http.Context;
import io.jobstream.event.Timestamps;
import java.io.IOException;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /api/v2/jobs/{id}/timeline/?format=matrix}: the same timeline as {@link TimelineView}, every task with
 * every host, in a compact shape for the pages that draw all hosts × tasks (issue 19). The SPEC shape repeats each
 * host's name, status and three timestamps in every task: 28.9 MB of JSON for 1,000 hosts × 200 tasks, whose size,
 * not the page's drawing, kept the matrix from being interactive in under a second.
 *
 * <p>Here the hosts come once ({@code hosts}, in the order they first appear task by task, as the pages list them)
 * and each task carries parallel arrays indexed by host: {@code cells}, one character per host (see
 * {@link #LETTERS}; {@code .} = the host has nothing in this task), {@code start_ms}, the host's start as integer
 * milliseconds after the task's start, and {@code ms}, its duration in milliseconds, while running its elapsed time
 * up to {@code now}, -1 when unknown (incomplete) and 0 for {@code .}; {@code slow} lists the indexes of the hosts
 * the timeline's slow rule flags. Times are truncated to the millisecond (the SPEC shape has microseconds).
 *
 * <p>Polling: the answer carries an ETag made of what it is computed from (the job's status and the model's rows,
 * highest counter and newest event, and while the job runs, the {@value #RUNNING_BUCKET_SECONDS} s period of
 * {@code now}, so elapsed times and slow flags still move); a matching {@code If-None-Match} is answered 304 with no
 * body, without writing the matrix. Javalin gzips the answer when the client accepts it (its default).
 */
final class MatrixView {
    static final String FORMAT = "matrix";
    /** Status letters, also sent in every answer as {@code letters} so that the shape explains itself. */
    static final Map<String, Character> LETTERS = letters();

    static final int RUNNING_BUCKET_SECONDS = 5;
    private static final Set<String> PARAMS = Set.of("format");

    private final RunCache runs;
    private final Clock clock;

    MatrixView(RunCache runs, Clock clock) {
        this.runs = runs;
        this.clock = clock;
    }

    private static Map<String, Character> letters() {
        Map<String, Character> m = new LinkedHashMap<>();
        m.put(RunModel.OK, 'o');
        m.put(RunModel.CHANGED, 'c');
        m.put(RunModel.FAILED, 'f');
        m.put("ignored", 'i'); // failed with ignore_errors: the SPEC shape's failed + "ignored": true
        m.put(RunModel.SKIPPED, 's');
        m.put(RunModel.UNREACHABLE, 'u');
        m.put(RunModel.RUNNING, 'r');
        m.put(RunModel.INCOMPLETE, 'x');
        m.put("none", '.');
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Whether the request asks for this shape: any {@code format} parameter (a wrong one is a 400 here). */
    static boolean wanted(Context ctx) {
        return ctx.queryParamMap().containsKey("format");
    }

    void handle(Context ctx, JobView job) {
        StrictParams p = new StrictParams(ctx.queryParamMap(), PARAMS, "the timeline's matrix format");
        String format = p.text("format");
        if (!FORMAT.equals(format))
            throw ApiError.badRequest(
                    "format must be matrix, was '" + StrictParams.shorten(String.valueOf(format)) + "'");
        String ifNoneMatch = ctx.header("If-None-Match");
        byte[] body = runs.with(job, model -> {
            boolean active = model.stillRunning(job.status());
            long now = Timestamps.micros(clock.instant());
            String etag = etag(job, model, active, now);
            ctx.header("ETag", etag);
            ctx.header("Cache-Control", "private, no-cache");
            if (matches(ifNoneMatch, etag)) return null;
            return render(job, model, active, now);
        });
        if (body == null) ctx.status(304);
        else EventsView.json(ctx, body);
    }

    static String etag(JobView job, RunModel model, boolean active, long now) {
        String bucket = active ? "-" + now / (RUNNING_BUCKET_SECONDS * 1_000_000L) : "";
        return "\"m" + job.id() + '-' + Integer.toHexString(job.status().hashCode()) + '-' + model.rows() + '-'
                + model.maxCounter() + '-' + model.lastMicros() + (model.hasStats() ? "-s" : "") + bucket + '"';
    }

    /** RFC 9110: a list of (possibly weak) tags, or {@code *}. */
    static boolean matches(String header, String etag) {
        if (header == null) return false;
        for (String tag : header.split(",")) {
            String t = tag.trim();
            if (t.startsWith("W/")) t = t.substring(2);
            if (t.equals("*") || t.equals(etag)) return true;
        }
        return false;
    }

    static byte[] render(JobView job, RunModel model, boolean active, long now) {
        Map<String, Integer> hostIndex = new LinkedHashMap<>();
        for (RunModel.Task t : model.tasks())
            for (String h : t.hosts.keySet()) hostIndex.putIfAbsent(h, hostIndex.size());
        int n = hostIndex.size();
        char[] cells = new char[n];
        long[] startMs = new long[n];
        long[] ms = new long[n];
        int[] slow = new int[n];
        return ApiJson.bytes(g -> {
            MicrosTime time = new MicrosTime();
            g.writeStartObject();
            g.writeNumberField("job", job.id());
            g.writeStringField("status", job.status());
            g.writeBooleanField("running", active);
            g.writeStringField("now", time.format(now));
            g.writeStringField("format", FORMAT);
            g.writeObjectFieldStart("letters");
            for (Map.Entry<String, Character> e : LETTERS.entrySet())
                g.writeStringField(String.valueOf(e.getValue()), e.getKey());
            g.writeEndObject();
            g.writeNumberField("host_count", n);
            g.writeNumberField("count", model.tasks().size());
            g.writeArrayFieldStart("hosts");
            for (String h : hostIndex.keySet()) g.writeString(h);
            g.writeEndArray();
            g.writeArrayFieldStart("tasks");
            for (RunModel.Task t : model.tasks()) {
                Arrays.fill(cells, '.');
                Arrays.fill(startMs, 0);
                Arrays.fill(ms, 0);
                int slowCount = 0;
                long end = t.start;
                boolean running = false;
                double median = TimelineView.median(t);
                for (RunModel.HostRun h : t.hosts.values()) {
                    int i = hostIndex.get(h.host);
                    long start = h.start >= 0 ? h.start : t.start;
                    startMs[i] = Math.floorDiv(start - t.start, 1000);
                    String status = h.result != null ? h.result : active ? RunModel.RUNNING : RunModel.INCOMPLETE;
                    cells[i] = h.ignored ? 'i' : LETTERS.get(status);
                    double seconds;
                    if (h.result != null) {
                        end = Math.max(end, h.end);
                        ms[i] = Math.floorDiv(h.end - start, 1000);
                        seconds = TimelineView.seconds(h.end - start);
                    } else {
                        running |= active;
                        seconds = TimelineView.seconds(Math.max(0, now - start));
                        ms[i] = active ? Math.max(0, now - start) / 1000 : -1;
                    }
                    if ((h.result != null || active) && TimelineView.slow(seconds, median)) slow[slowCount++] = i;
                }
                g.writeStartObject();
                g.writeStringField("uuid", t.uuid);
                g.writeStringField("play", t.play);
                g.writeStringField("task", t.name);
                g.writeNumberField("ordinal", t.ordinal);
                g.writeNumberField("counter", t.counter);
                g.writeStringField("start", time.format(t.start));
                if (running) g.writeNullField("end");
                else g.writeStringField("end", time.format(end));
                g.writeNumberField("duration", TimelineView.seconds((running ? Math.max(now, end) : end) - t.start));
                g.writeBooleanField("running", running);
                g.writeFieldName("cells");
                g.writeString(cells, 0, n);
                writeLongs(g, "start_ms", startMs, n);
                writeLongs(g, "ms", ms, n);
                g.writeArrayFieldStart("slow");
                for (int k = 0; k < slowCount; k++) g.writeNumber(slow[k]);
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private static void writeLongs(JsonGenerator g, String name, long[] values, int n) throws IOException {
        g.writeFieldName(name);
        g.writeArray(values, 0, n);
    }
}
