package io.jobstream.api;

import io.javalin.http.Context;
import io.jobstream.auth.Requests;
import io.jobstream.config.Config;
import io.jobstream.limit.Concurrency;
import io.micrometer.core.instrument.Counter;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v2/jobs/{id}/stdout/} (reference §2.12, §7.2): the job's event stdout in counter order, one
 * newline after each, written to the response page by page as it is read from the store, so a million-line job is
 * never held in memory. {@code txt} removes ANSI escapes on the fly; {@code json} and {@code html} are limited
 * to AWX's display size like {@code txt}/{@code ansi}, the {@code *_download} formats are not. Called on
 * Jetty's request threads; the source reads the store in pages, holding no connection while the client reads.
 */
final class StdoutView {
    private static final Logger LOG = LoggerFactory.getLogger(StdoutView.class);
    /** AWX's STDOUT_MAX_BYTES_DISPLAY: above this many characters only downloads are served. */
    static final long MAX_DISPLAY_CHARS = 1_048_576;

    private static final List<String> FORMATS = List.of("txt", "ansi", "json", "html", "txt_download", "ansi_download");

    private final StdoutSource source;
    private final Config.Downloads downloads;
    private final Counter slowClients;
    /** Stdout responses in progress per user (http.max-downloads-per-user): each holds a thread while it streams. */
    private final Concurrency inProgress;

    /**
     * @param slowClients counts responses cut off for {@code http.min-response-rate}
     * @param inProgress  per user id, at most {@code http.max-downloads-per-user}; counts its refusals
     */
    StdoutView(StdoutSource source, Config.Downloads downloads, Counter slowClients, Concurrency inProgress) {
        this.source = source;
        this.downloads = downloads;
        this.slowClients = slowClients;
        this.inProgress = inProgress;
    }

    /**
     * Streams the job's stdout into {@code target}, written through {@code body}. A client that reads slower than
     * the minimum rate is cut off, counted, and its connection closed: the response is committed, so ending it
     * "normally" would make Jetty wait to flush what it still holds to that same slow client. A write stays blocked
     * while the socket's buffers are full, so besides the check before each write a watchdog on Jetty's scheduler
     * looks every second.
     */
    private void copy(Context ctx, JobView job, MinRateOutput body, Writer target) throws IOException {
        boolean timestamps = timestamps(ctx);
        ServletContextRequest request = ServletContextRequest.getServletContextRequest(ctx.req());
        EndPoint endPoint = request == null
                ? null
                : request.getConnectionMetaData().getConnection().getEndPoint();
        AtomicBoolean done = new AtomicBoolean();
        if (endPoint != null && downloads.minRate() > 0) {
            watch(request.getComponents().getScheduler(), endPoint, body, done);
        }
        try {
            each(job, timestamps, stdout -> writeEvent(target, stdout));
            target.flush();
        } catch (IOException e) {
            if (!body.wasCut()) throw e;
            slowClients.increment();
            LOG.debug("job {}: stdout response cut off: {}", job.id(), e.getMessage());
            if (endPoint != null) abort(endPoint); // what Jetty still holds for this client goes with it
        } finally {
            done.set(true);
        }
    }

    private static void watch(Scheduler scheduler, EndPoint endPoint, MinRateOutput body, AtomicBoolean done) {
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
            if (done.get()) return;
            if (body.behind()) {
                body.cut();
                abort(endPoint); // the blocked write fails, and the request thread ends the download
                return;
            }
            scheduler.schedule(tick[0], 1, TimeUnit.SECONDS);
        };
        scheduler.schedule(tick[0], 1, TimeUnit.SECONDS);
    }

    /**
     * Closes the connection with a reset: a plain close would still send the megabytes in the socket's buffer, at
     * the slow client's pace, while the kernel holds them.
     */
    private static void abort(EndPoint endPoint) {
        if (endPoint.getTransport() instanceof SocketChannel channel) {
            try {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException | RuntimeException ignored) {
                // closed already: nothing left to discard
            }
        }
        endPoint.close();
    }

    /** The response body, through the minimum read rate (http.min-response-rate). */
    private MinRateOutput body(Context ctx) {
        return new MinRateOutput(ctx.outputStream(), downloads.minRate(), downloads.rateGrace(), System::nanoTime);
    }

    void handle(Context ctx, JobView job) throws IOException {
        String user = Long.toString(Requests.principal(ctx).userId());
        if (!inProgress.tryAcquire(user)) {
            ctx.header("Retry-After", "1");
            throw ApiError.tooMany("You have " + inProgress.max() + " stdout responses in progress, the most a user"
                    + " may have at once (http.max-downloads-per-user); retry when one has finished.");
        }
        try {
            serve(ctx, job);
        } finally {
            inProgress.release(user);
        }
    }

    private void serve(Context ctx, JobView job) throws IOException {
        String format = format(ctx);
        timestamps(ctx); // a bad value is refused before any byte is written
        boolean download = format.endsWith("_download");
        if (!download) {
            long size = source.length(job.id());
            if (size > MAX_DISPLAY_CHARS) {
                tooLarge(ctx, format, size);
                return;
            }
        }
        switch (format) {
            case "json" -> json(ctx, job);
            case "html" -> html(ctx, job);
            default -> text(ctx, job, format);
        }
    }

    private static String format(Context ctx) {
        String format = ctx.queryParam("format");
        if (format == null || format.isEmpty()) {
            String accept = ctx.header("Accept");
            return accept != null && accept.contains("application/json") ? "json" : "txt";
        }
        format = format.toLowerCase(Locale.ROOT);
        if (!FORMATS.contains(format)) {
            throw ApiError.badRequest("format must be one of " + String.join(", ", FORMATS) + ", was '" + format + "'");
        }
        return format;
    }

    private static void tooLarge(Context ctx, String format, long size) {
        String message = "Standard Output too large to display (" + size + " bytes), only download supported for"
                + " sizes over " + MAX_DISPLAY_CHARS + " bytes.";
        if (format.equals("json")) {
            ctx.contentType("application/json").result(ApiJson.bytes(g -> {
                g.writeStartObject();
                writeRange(g, 0, 1, 1);
                g.writeStringField("content", message);
                g.writeEndObject();
            }));
        } else {
            ctx.contentType("text/plain; charset=utf-8").result(message);
        }
    }

    private void text(Context ctx, JobView job, String format) throws IOException {
        boolean strip = format.startsWith("txt");
        ctx.contentType("text/plain; charset=utf-8");
        if (format.endsWith("_download")) {
            String name = "job_" + job.id() + (strip ? ".txt" : ".ansi.txt");
            ctx.header("Content-Disposition", "attachment; filename=\"" + name + "\"");
        }
        MinRateOutput body = body(ctx);
        Writer out = new BufferedWriter(new OutputStreamWriter(body, StandardCharsets.UTF_8), 1 << 16);
        Writer target = strip ? new AnsiStripper(out) : out;
        copy(ctx, job, body, target);
    }

    /**
     * One event's text and its newline. Like AWX, CR LF inside an event becomes LF (AWX's COPY un-escaping);
     * AWX's other COPY escapes are an accident and are not reproduced.
     */
    static void writeEvent(Writer out, String stdout) throws IOException {
        out.write(stdout.indexOf('\r') < 0 ? stdout : stdout.replace("\r\n", "\n"));
        out.write('\n');
    }

    /**
     * Each event's stdout in counter order; with {@code timestamps}, every line of it prefixed with the event's
     * {@code created} and a space (SPEC §11, {@code ?timestamps=1}), so that a download says when each line came.
     */
    private void each(JobView job, boolean timestamps, StdoutSource.Sink sink) throws IOException {
        if (!timestamps) {
            source.copy(job.id(), sink);
            return;
        }
        source.copyTimed(job.id(), (created, stdout) -> sink.accept(stamped(created, stdout)));
    }

    /** The text with {@code created} and a space before each of its lines (CR LF read as one line end). */
    static String stamped(java.time.Instant created, String stdout) {
        String prefix = ApiJson.time(created) + " ";
        String text = stdout.indexOf('\r') < 0 ? stdout : stdout.replace("\r\n", "\n");
        StringBuilder out = new StringBuilder(text.length() + prefix.length() * 2);
        int from = 0;
        while (true) {
            int nl = text.indexOf('\n', from);
            out.append(prefix);
            if (nl < 0) {
                out.append(text, from, text.length());
                return out.toString();
            }
            out.append(text, from, nl + 1);
            from = nl + 1;
        }
    }

    /** {@code ?timestamps=1}: off when absent; a value that is not a boolean is refused. */
    private static boolean timestamps(Context ctx) {
        String v = ctx.queryParam("timestamps");
        if (v == null || v.isEmpty()) return false;
        Boolean b = QueryParams.bool(v);
        if (b == null) throw ApiError.badRequest("timestamps must be 1 or 0, was '" + StrictParams.shorten(v) + "'");
        return b;
    }

    /** Lines [start_line, end_line) of the text; bounded by the display limit, so built in memory. */
    private void json(Context ctx, JobView job) throws IOException {
        StringBuilder all = new StringBuilder();
        each(job, timestamps(ctx), stdout -> {
            all.append(stdout.indexOf('\r') < 0 ? stdout : stdout.replace("\r\n", "\n"));
            all.append('\n');
        });
        List<Integer> lineStarts = new ArrayList<>();
        for (int i = 0; i < all.length(); i = all.indexOf("\n", i) + 1) {
            lineStarts.add(i);
            if (all.indexOf("\n", i) < 0) break;
        }
        int total = lineStarts.size();
        int start = lineParam(ctx, "start_line", 0);
        Integer endParam = ctx.queryParam("end_line") == null ? null : lineParam(ctx, "end_line", 0);
        int from = start < 0 ? Math.max(0, total + start) : Math.min(start, total);
        int to = endParam == null || start < 0 ? total : Math.max(from, Math.min(endParam, total));
        String content = all.substring(
                from < total ? lineStarts.get(from) : all.length(), to < total ? lineStarts.get(to) : all.length());
        boolean base64 = "base64".equals(ctx.queryParam("content_encoding"));
        String body = base64 ? Base64.getEncoder().encodeToString(content.getBytes(StandardCharsets.UTF_8)) : content;
        int rangeStart = start < 0 ? from : start;
        ctx.contentType("application/json").result(ApiJson.bytes(g -> {
            g.writeStartObject();
            writeRange(g, rangeStart, to, total);
            g.writeStringField("content", body);
            g.writeEndObject();
        }));
    }

    private static int lineParam(Context ctx, String name, int dflt) {
        String v = ctx.queryParam(name);
        if (v == null || v.isEmpty()) return dflt;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(name + ": '" + v + "' is not an integer");
        }
    }

    private static void writeRange(com.fasterxml.jackson.core.JsonGenerator g, int start, int end, int absoluteEnd)
            throws IOException {
        g.writeObjectFieldStart("range");
        g.writeNumberField("start", start);
        g.writeNumberField("end", end);
        g.writeNumberField("absolute_end", absoluteEnd);
        g.writeEndObject();
    }

    /**
     * The html page is a job's output, which anyone who could run a playbook wrote: it may run nothing, load nothing,
     * be framed by no one, and is sandboxed into an origin of its own; only its one inline style block applies.
     */
    static final String HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors 'none'; sandbox";

    /** A plain page: the text without colours, HTML-escaped, on a dark background unless {@code dark=0}. */
    private void html(Context ctx, JobView job) throws IOException {
        ctx.contentType("text/html; charset=utf-8");
        ctx.header("Content-Security-Policy", HTML_CSP);
        boolean dark = !"0".equals(ctx.queryParam("dark"));
        MinRateOutput body = body(ctx);
        Writer out = new BufferedWriter(new OutputStreamWriter(body, StandardCharsets.UTF_8), 1 << 16);
        out.write("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>job " + job.id() + " stdout</title>"
                + "<style>body{margin:0;" + (dark ? "background:#161b1f;color:#ddd" : "background:#fff;color:#222")
                + "}pre{margin:1em;white-space:pre-wrap;font:13px monospace}</style></head><body><pre>");
        Writer text = new AnsiStripper(new HtmlEscaper(out));
        copy(ctx, job, body, text);
        out.write("</pre></body></html>\n");
        out.flush();
    }

    /** Escapes the five HTML-significant characters on the way through. */
    private static final class HtmlEscaper extends Writer {
        private final Writer out;

        HtmlEscaper(Writer out) {
            this.out = out;
        }

        @Override
        public void write(char[] buf, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                char c = buf[i];
                switch (c) {
                    case '<' -> out.write("&lt;");
                    case '>' -> out.write("&gt;");
                    case '&' -> out.write("&amp;");
                    case '"' -> out.write("&quot;");
                    case '\'' -> out.write("&#39;");
                    default -> out.write(c);
                }
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
