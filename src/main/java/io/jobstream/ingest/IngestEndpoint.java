package io.jobstream.ingest;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.Principal;
import io.jobstream.auth.Requests;
import io.jobstream.config.Config.IngestConfig;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.Framing;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.limit.Rate;
import io.jobstream.metrics.Metrics;
import io.jobstream.persist.StoreTrouble;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.EventQueue;
import io.jobstream.queue.Receipt;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.http.BadMessageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v2/job_events/ingest/}: one event, a JSON array, or NDJSON.
 *
 * <p>Answers: 200 once every valid event of the request is committed (the body counts accepted and duplicate
 * events and lists rejected and repaired lines); 400 when no line is valid; 413 when the body is over
 * {@code ingest.max-request-size} or holds more events than the queue can ever take; 429 with Retry-After when the
 * emitter is over {@code ingest.max-rate} (nothing of the request is queued, so the emitter retries it whole);
 * 503 with Retry-After when the queue is full, the node is stopping, or the commit
 * took longer than {@code ingest.commit-timeout} (then the events stay queued and will be stored; a retry is safe
 * because storage is idempotent). Handlers run on Jetty threads and never block: the answer is written from the
 * receipt's future.
 */
public final class IngestEndpoint {
    public static final String PATH = "/api/v2/job_events/ingest/";
    private static final Logger log = LoggerFactory.getLogger(IngestEndpoint.class);
    private static final int RETRY_AFTER_SECONDS = 1;
    /** Emitters whose rate is remembered (ingest.max-rate); see {@link Rate} for which are forgotten beyond. */
    private static final int MAX_EMITTERS = 10_000;

    private final EventDecoder decoder;
    private final EventQueue queue;
    private final IngestConfig config;
    private final MeterRegistry registry;
    private final JobAccess access;
    private final Counter received;
    private final Counter eofsReceived;
    private final Counter createdFilled;
    private final Timer lagReceived;
    private final ExecutorService replies;
    private final Rate rates; // null: no rate limit
    private final JobCaptures captures;
    private final Supplier<StoreTrouble> storeTrouble;
    private volatile boolean closed;

    /**
     * @param access which jobs the request's credential may write (lines for other jobs are rejected); the
     *               ingest rate limit counts per token, or per user for session and Basic credentials
     */
    public IngestEndpoint(
            EventDecoder decoder, EventQueue queue, IngestConfig config, MeterRegistry registry, JobAccess access) {
        this(decoder, queue, config, registry, access, (level, perJob) -> {}, () -> null);
    }

    /**
     * @param captures where each job's capture level and dropped counts are recorded once its events are committed
     *                 (see {@link CaptureStep})
     * @param storeTrouble why the store refuses writes now (disk full, quota, read-only), or null: while it is set,
     *                 requests are refused at once with 503 and that reason (already queued events stay queued)
     */
    public IngestEndpoint(
            EventDecoder decoder,
            EventQueue queue,
            IngestConfig config,
            MeterRegistry registry,
            JobAccess access,
            JobCaptures captures,
            Supplier<StoreTrouble> storeTrouble) {
        Counter rateLimited = Counter.builder(Metrics.EVENTS_RATE_LIMITED)
                .description("valid lines (events and EOFs) refused with 429: their emitter was over ingest.max-rate")
                .register(registry);
        // a bucket per emitter; emitters quiet the longest are forgotten beyond MAX_EMITTERS (they start full anyway)
        this.rates = config.maxRate() <= 0
                ? null
                : Rate.bucket(
                        config.maxRate(),
                        Duration.ofSeconds(1),
                        config.rateBurst() > 0 ? config.rateBurst() : config.maxRate(),
                        MAX_EMITTERS,
                        System::nanoTime,
                        rateLimited::increment);
        this.decoder = decoder;
        this.captures = captures;
        this.storeTrouble = storeTrouble;
        this.access = access;
        this.queue = queue;
        this.config = config;
        this.registry = registry;
        this.received = registry.counter(Metrics.EVENTS_RECEIVED);
        this.eofsReceived = registry.counter(Metrics.EOFS_RECEIVED);
        this.createdFilled = registry.counter(Metrics.EVENTS_CREATED_FILLED);
        this.lagReceived = Metrics.lag(registry, Metrics.LAG_RECEIVED, "Event created to received by a node");
        // One waiting request per queued request at most, so the queue's capacity bounds this one too.
        this.replies =
                new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(queue.capacity()), r -> {
                    Thread t = new Thread(r, "jobstream-ingest-reply");
                    t.setDaemon(true);
                    return t;
                });
    }

    public void register(RoutesConfig routes) {
        routes.post(PATH, this::handle, Access.INGEST);
    }

    /** From now on requests get 503 (the node is stopping); already accepted events are still committed. */
    public void close() {
        closed = true;
    }

    /** After the receiver has drained: lets the last replies go out, then stops the reply threads. */
    public void stopReplies() {
        replies.shutdown();
        try {
            replies.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(Context ctx) {
        if (closed) {
            answer(ctx, 503, refusal("node is shutting down; retry on another node or later"));
            return;
        }
        StoreTrouble trouble = storeTrouble.get();
        if (trouble != null) {
            // waiting in the queue cannot help until space returns: say why now rather than after commit-timeout
            registry.counter(Metrics.INGEST_STORE_REFUSED, "reason", trouble.tag())
                    .increment();
            answer(
                    ctx,
                    503,
                    refusal(trouble.reason() + " since " + trouble.since()
                            + "; nothing of this request was stored, events accepted before are kept queued and"
                            + " will be stored when it can write again; retry later"));
            return;
        }
        byte[] body;
        try {
            body = ctx.bodyAsBytes();
        } catch (BadMessageException e) {
            // Jetty cut the upload off: slower than http.min-request-rate (408), or broken off mid-body
            answer(
                    ctx,
                    e.getCode(),
                    new IngestReply(0, 0, List.of(), List.of(), "request body not received: " + e.getReason(), null));
            return;
        }
        List<Decoded> lines = decoder.decodeBody(body, Framing.of(ctx.header("Content-Type")));
        List<IngestReply.Problem> rejected = new ArrayList<>();
        List<IngestReply.Problem> repairs = new ArrayList<>();
        List<Decoded.Ok> valid = new ArrayList<>();
        JobAccess.Writes writes = writes(Requests.principal(ctx), lines);
        if (writes.refused().values().stream().anyMatch(r -> r.tag().equals(JobAccess.UNAVAILABLE))) {
            // nothing of the request is queued, so the emitter can send it again as it is
            answer(ctx, 503, refusal("cannot check who may write these jobs right now (database unreachable); retry"));
            return;
        }
        int forbidden = 0;
        boolean onlyPartitionLimit = true;
        Map<Long, JobAccess.Refusal> refused = writes.refused();
        for (Decoded d : lines) {
            // usually nothing is refused: then no lookup (and no boxing) per line
            JobAccess.Refusal refusal = !refused.isEmpty() && d instanceof Decoded.Ok ok
                    ? refused.get(ok.message().jobId())
                    : null;
            if (refusal != null) {
                forbidden++;
                onlyPartitionLimit &= refusal.tag().equals("partition_limit");
                rejected.add(new IngestReply.Problem(d.line(), refusal.reason()));
                registry.counter(Metrics.EVENTS_REJECTED, "reason", refusal.tag())
                        .increment();
                log.debug("rejected line {}: {}", d.line(), refusal.tag());
                continue;
            }
            if (d instanceof Decoded.Rejected r) {
                rejected.add(new IngestReply.Problem(r.line(), r.reason()));
                registry.counter(Metrics.EVENTS_REJECTED, "reason", r.tag()).increment();
                log.debug("rejected line {}: {}", r.line(), r.tag()); // the reason may quote the payload: not logged
            } else if (d instanceof Decoded.Ok ok) {
                valid.add(ok);
                for (String repair : ok.repairs()) repairs.add(new IngestReply.Problem(ok.line(), repair));
            }
        }
        if (valid.isEmpty() && forbidden > 0 && onlyPartitionLimit) {
            answer(
                    ctx,
                    429,
                    new IngestReply(
                            0,
                            0,
                            rejected,
                            repairs,
                            "these jobs need new event partitions and the" + " node's limit is reached; retry later",
                            60));
            return;
        }
        if (valid.isEmpty() && forbidden > 0) {
            answer(
                    ctx,
                    403,
                    new IngestReply(
                            0, 0, rejected, repairs, "this credential may not write events of these jobs", null));
            return;
        }
        if (valid.isEmpty()) {
            String detail =
                    lines.isEmpty() ? "empty body: send one JSON event, a JSON array, or NDJSON" : "no valid event";
            answer(ctx, 400, new IngestReply(0, 0, rejected, repairs, detail, null));
            return;
        }
        if (valid.size() > queue.capacity()) {
            answer(
                    ctx,
                    413,
                    new IngestReply(
                            0,
                            0,
                            rejected,
                            repairs,
                            "request has " + valid.size() + " events, more than the queue holds (" + queue.capacity()
                                    + "); send smaller requests",
                            null));
            return;
        }
        if (rates != null) {
            long wait = rates.take(Requests.principal(ctx).rateKey(), valid.size());
            if (wait > 0) {
                answer(
                        ctx,
                        429,
                        new IngestReply(
                                0,
                                0,
                                rejected,
                                List.of(),
                                "emitter over the ingest rate limit of "
                                        + config.maxRate()
                                        + " events/s (ingest.max-rate); nothing of this request was stored:"
                                        + " send it again after Retry-After",
                                (int) Math.min(wait, 3600)));
                return;
            }
        }
        CaptureStep capture = new CaptureStep(Requests.principal(ctx).captureLevel(), registry);
        valid = capture.apply(valid);
        RequestReceipt receipt = offer(valid, capture);
        if (receipt == null) {
            // full, or (cluster mode) Redis unreachable: either way nothing was promised and a retry is safe
            answer(
                    ctx,
                    503,
                    refusal("queue full (" + queue.capacity() + " events waiting to be stored) or unavailable;"
                            + " retry later"));
            return;
        }
        count(valid, repairs);
        if (capture.dropsAny()) receipt.future().thenRunAsync(() -> recordCaptures(capture), replies);
        ctx.future(() -> reply(ctx, receipt, rejected, repairs));
    }

    /**
     * Queues events this node writes itself (the EOF of a launched job whose process ended without sending one):
     * decoded and queued exactly as a request's, without credentials or rate limit, since no one outside the node
     * can reach this. Completes true once committed, false when the queue refused them (full, unavailable or
     * stopping: the caller may retry), and exceptionally when the text holds no valid event (a bug of the caller).
     */
    public CompletableFuture<Boolean> submitOwn(String ndjson) {
        if (closed) return CompletableFuture.completedFuture(false);
        List<Decoded.Ok> valid = new ArrayList<>();
        for (Decoded d : decoder.decodeBody(ndjson.getBytes(StandardCharsets.UTF_8), Framing.NDJSON)) {
            if (d instanceof Decoded.Rejected r) {
                return CompletableFuture.failedFuture(
                        new IllegalArgumentException("line " + r.line() + ": " + r.reason()));
            }
            valid.add((Decoded.Ok) d);
        }
        if (valid.isEmpty()) return CompletableFuture.failedFuture(new IllegalArgumentException("no event"));
        RequestReceipt receipt = offer(valid, null); // the node's own (an EOF): nothing to capture less of
        if (receipt == null) return CompletableFuture.completedFuture(false);
        count(valid, List.of()); // received like an emitter's, so that received and stored agree
        return receipt.future().thenApply(r -> true);
    }

    /** Offers the valid lines to the queue as one unit; their receipt, or null when the queue refused them all. */
    private RequestReceipt offer(List<Decoded.Ok> valid, CaptureStep capture) {
        RequestReceipt receipt = new RequestReceipt(valid.size());
        List<Envelope> envelopes = new ArrayList<>(valid.size());
        for (Decoded.Ok ok : valid) {
            Receipt r = receipt.forLine(ok.line());
            envelopes.add(new Envelope(ok.message(), capture == null ? r : capture.counting(ok, r)));
        }
        return queue.offerAll(envelopes) ? receipt : null;
    }

    /** Writes what the request's capture level dropped of committed events to the jobs; a failure costs the count. */
    private void recordCaptures(CaptureStep capture) {
        try {
            captures.record(capture.level(), capture.committedDrops());
        } catch (RuntimeException e) {
            log.warn("capture counts of a request not recorded: {}", e.getMessage());
        }
    }

    /** The verdict on the jobs of the request's valid lines (a store query or two; see {@link JobAccess}). */
    private JobAccess.Writes writes(Principal principal, List<Decoded> lines) {
        Set<Long> jobs = new TreeSet<>();
        long last = 0;
        boolean any = false;
        for (Decoded d : lines) {
            if (!(d instanceof Decoded.Ok ok)) continue;
            long job = ok.message().jobId();
            // a request's lines are mostly one job: add each run of equal ids once, not once per line
            if (!any || job != last) jobs.add(job);
            last = job;
            any = true;
        }
        return jobs.isEmpty() ? new JobAccess.Writes(Set.of(), Map.of()) : access.writes(principal, jobs);
    }

    private CompletableFuture<Void> reply(
            Context ctx,
            RequestReceipt receipt,
            List<IngestReply.Problem> rejected,
            List<IngestReply.Problem> repairs) {
        long timeoutMs = config.commitTimeout().toMillis();
        // Async: the receiver thread completes receipts, and writing HTTP responses is not its job.
        return receipt.future()
                .thenApplyAsync(
                        r -> {
                            List<IngestReply.Problem> problems = new ArrayList<>(rejected);
                            problems.addAll(r.failures());
                            return new IngestReply(r.stored(), r.duplicates(), problems, repairs, null, null);
                        },
                        replies)
                .completeOnTimeout(null, timeoutMs, TimeUnit.MILLISECONDS)
                .thenAccept(reply -> {
                    if (reply != null) {
                        answer(ctx, 200, reply);
                    } else {
                        StoreTrouble now = storeTrouble.get();
                        answer(
                                ctx,
                                503,
                                refusal((now == null ? "" : now.reason() + ": ")
                                        + "events accepted but not committed within "
                                        + Duration.ofMillis(timeoutMs).toSeconds()
                                        + "s (database slow or down); they stay"
                                        + " queued and will be stored; retrying is safe, duplicates are ignored"));
                    }
                });
    }

    private void count(List<Decoded.Ok> valid, List<IngestReply.Problem> repairs) {
        for (IngestReply.Problem repair : repairs) {
            registry.counter(Metrics.EVENTS_REPAIRED, "reason", repairTag(repair.reason()))
                    .increment();
        }
        int eofs = 0;
        for (Decoded.Ok ok : valid) {
            if (ok.message() instanceof JobEvent e) {
                if (e.createdFilled()) createdFilled.increment();
                else Metrics.recordLag(lagReceived, e.created(), e.received());
            } else {
                eofs++; // the end of a job's stream, not an event
            }
        }
        // once per request, not per line: these adders are shared by every request thread
        received.increment(valid.size() - eofs);
        if (eofs > 0) eofsReceived.increment(eofs);
    }

    /** The decoder's repairs, as a bounded set of metric tags (its wording is for people). */
    static String repairTag(String repair) {
        if (repair.contains("NUL")) return "nul";
        if (repair.contains("surrogate")) return "surrogate";
        if (repair.contains("NaN/Infinity")) return "non_finite";
        return "other";
    }

    private static IngestReply refusal(String detail) {
        return new IngestReply(0, 0, List.of(), List.of(), detail, RETRY_AFTER_SECONDS);
    }

    private void answer(Context ctx, int status, IngestReply reply) {
        registry.counter(Metrics.INGEST_REQUESTS, "status", Integer.toString(status))
                .increment();
        if (reply.retryAfterSeconds() != null) ctx.header("Retry-After", Integer.toString(reply.retryAfterSeconds()));
        try {
            ctx.status(status).contentType("application/json").result(Json.MAPPER.writeValueAsBytes(reply));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
