package io.jobstream.cli;

import io.jobstream.event.Timestamps;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One load run against a node: an emitter posts NDJSON batches every 10 ms at the planned rate, spread over the
 * jobs, each event's {@code created} the moment its batch was scheduled to be sent; subscribers of every job record
 * now − created as each event arrives (emitter → HTTP → queue → commit → broadcast → socket).
 *
 * <p>Free of coordinated omission: the schedule is fixed at the start (tick n at start + n × 10 ms) and lag counts
 * from it, not from when the emitter got round to building the batch. An emitter held up (the node answering slowly,
 * every post slot taken, its own pauses) sends late, and that wait is in the lag, as it is for a real playbook whose
 * callback blocks; measuring from the send time would hide exactly the stalls a lag benchmark is for. The warm-up's events are sent but
 * not measured. Posts in flight are bounded; if the node answers slower than the rate, the emitter falls behind and
 * says so (offered vs planned) instead of queueing without bound. Prints a line per second while it runs.
 */
final class LoadRun {
    private static final int TICK_MS = 10;
    private static final int MAX_POSTS_IN_FLIGHT = 64;

    record Plan(
            int jobs,
            int rate,
            int eventSize,
            int subscribersPerJob,
            Duration warmup,
            Duration duration,
            long firstJob,
            boolean drainWarmup) {
        Plan(
                int jobs,
                int rate,
                int eventSize,
                int subscribersPerJob,
                Duration warmup,
                Duration duration,
                long firstJob) {
            this(jobs, rate, eventSize, subscribersPerJob, warmup, duration, firstJob, false);
        }
    }

    /** With {@code drainWarmup}: how long past the warm-up to wait for its events before measuring anyway. */
    private static final long MAX_DRAIN_TICKS = 60_000 / TICK_MS;

    record Result(
            Plan plan,
            long offered,
            long accepted,
            long failedPosts,
            long expectedDeliveries,
            long delivered,
            Histogram lag,
            double seconds) {
        boolean lossless() {
            return failedPosts == 0 && delivered == expectedDeliveries;
        }

        String report() {
            if (plan.subscribersPerJob() == 0) { // an emitter only (bench/lag): the lag is measured elsewhere
                return String.format(
                        "load: %d job(s), %d events/s planned, no subscribers, %.1f s measured%n"
                                + "  ingest:    %d events offered while measuring (%.0f/s); %d accepted in all, warm-up"
                                + " included; %d failed posts",
                        plan.jobs(), plan.rate(), seconds, offered, offered / seconds, accepted, failedPosts);
            }
            return String.format(
                    "load: %d job(s), %d events/s planned, %d subscriber(s) per job, %.1f s measured%n"
                            + "  ingest:    %d events offered while measuring (%.0f/s); %d accepted in all, warm-up included;"
                            + " %d failed posts%n"
                            + "  delivered: %d of %d messages%n"
                            + "  lag created->websocket (ms): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
                    plan.jobs(),
                    plan.rate(),
                    plan.subscribersPerJob(),
                    seconds,
                    offered,
                    offered / seconds,
                    accepted,
                    failedPosts,
                    delivered,
                    expectedDeliveries,
                    ms(lag, 50),
                    ms(lag, 90),
                    ms(lag, 99),
                    ms(lag, 99.9),
                    lag.getTotalCount() == 0 ? 0 : lag.getMaxValue() / 1000.0);
        }

        private static double ms(Histogram h, double percentile) {
            return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    private final NodeClient node;
    private final Plan plan;
    private final PrintWriter out;
    private final Recorder lags = new Recorder(3);
    /** The warm-up's events, shown per second (a backlog built while warming up shows here) but never measured. */
    private final Recorder warmupLags = new Recorder(3);

    private final Histogram total = new Histogram(3);
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong failedPosts = new AtomicLong();
    private volatile int[] measuredAfter; // per job: counters at or below are the warm-up's
    private volatile int[] drainMarker; // per job: the warm-up's last counters, once the warm-up time is over
    private final AtomicLong drainDelivered = new AtomicLong(); // deliveries of counters at or below drainMarker

    LoadRun(NodeClient node, Plan plan, PrintWriter out) {
        this.node = node;
        this.plan = plan;
        this.out = out;
    }

    /** Job ids unlikely to collide with real jobs: a block of a thousand past a billion, picked by the clock. */
    static long freshJobRange() {
        return 1_000_000_000L + (System.currentTimeMillis() / 1000 % 1_000_000) * 1000;
    }

    Result run() throws Exception {
        List<WebSocket> sockets = new ArrayList<>();
        for (int j = 0; j < plan.jobs(); j++) {
            for (int s = 0; s < plan.subscribersPerJob(); s++) sockets.add(subscribe(j));
        }
        int perTickTotal = Math.max(1, plan.rate() * TICK_MS / 1000);
        long warmTicks = plan.warmup().toMillis() / TICK_MS;
        long measureTicks = plan.duration().toMillis() / TICK_MS;
        int[] counters = new int[plan.jobs()];
        int[] warmingUp = new int[plan.jobs()];
        Arrays.fill(warmingUp, Integer.MAX_VALUE);
        measuredAfter = warmingUp;
        drainMarker = warmingUp;
        Semaphore inFlight = new Semaphore(MAX_POSTS_IN_FLIGHT);
        List<CompletableFuture<?>> posts = new ArrayList<>();
        URI ingest = node.resolve("/api/v2/job_events/ingest/");
        String padding = "x".repeat(Math.max(0, plan.eventSize() - 260));
        long offered = 0;
        long measuredOffered = 0;
        long drainExpected = 0;
        double lastWarmupP99 = -1; // the warm-up events' p99 in the last reported second; -1: none arrived
        boolean stillFalling = true; // that p99 fell by more than a fifth from the second before: still draining
        long start = System.nanoTime();
        Instant wallStart = Instant.now();
        long maxLateNanos = 0; // how far behind its schedule the emitter built a batch, worst case
        long measureStart = start;
        long measureFromTick = warmTicks;
        boolean measuring = false;
        long nextReport = start + TimeUnit.SECONDS.toNanos(1);
        for (long tick = 0; !measuring || tick < measureFromTick + measureTicks; tick++) {
            if (!measuring && tick >= warmTicks) {
                if (plan.drainWarmup() && tick == warmTicks) {
                    drainMarker = counters.clone();
                    drainExpected = Arrays.stream(counters).asLongStream().sum() * plan.subscribersPerJob();
                }
                // drained: every event of the warm-up time has arrived, and the lag has stopped falling (a backlog
                // still draining shrinks every second; a steady lag, even a high one, is what is to be measured)
                boolean drained = !plan.drainWarmup() || drainDelivered.get() >= drainExpected && !stillFalling;
                if (drained || tick >= warmTicks + MAX_DRAIN_TICKS) {
                    if (plan.drainWarmup()) {
                        out.printf(
                                drained
                                        ? "warm-up backlog drained %.1f s after the warm-up (lag no longer falling);"
                                                + " measuring%n"
                                        : "warm-up backlog not drained %.1f s after the warm-up (%d of %d delivered);"
                                                + " measuring anyway%n",
                                (tick - warmTicks) * TICK_MS / 1000.0,
                                drainDelivered.get(),
                                drainExpected);
                    }
                    measuring = true;
                    measureFromTick = tick;
                    measuredAfter = counters.clone();
                    measureStart = System.nanoTime();
                    lags.reset();
                    delivered.set(0);
                }
            }
            long wait = start + TimeUnit.MILLISECONDS.toNanos(tick * TICK_MS) - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            else if (measuring) maxLateNanos = Math.max(maxLateNanos, -wait);
            String now = Timestamps.format(wallStart.plusMillis(tick * TICK_MS));
            StringBuilder body = new StringBuilder(perTickTotal * plan.eventSize());
            for (int k = 0; k < perTickTotal; k++) {
                int j = (int) ((tick * perTickTotal + k) % plan.jobs());
                body.append(event(plan.firstJob() + j, ++counters[j], now, padding))
                        .append('\n');
            }
            offered += perTickTotal;
            if (measuring) measuredOffered += perTickTotal;
            inFlight.acquire();
            int events = perTickTotal;
            posts.add(node.http()
                    .sendAsync(
                            node.credentials
                                    .request(ingest)
                                    .timeout(Duration.ofSeconds(60))
                                    .header("Content-Type", "application/x-ndjson")
                                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .handle((r, e) -> {
                        inFlight.release();
                        if (e == null && r.statusCode() == 200) accepted.addAndGet(events);
                        else failedPosts.incrementAndGet();
                        return null;
                    }));
            if (System.nanoTime() >= nextReport) {
                double warmupP99 =
                        progress(measuring ? "measuring" : tick < warmTicks ? "warm-up" : "draining", offered);
                if (tick >= warmTicks) {
                    stillFalling = warmupP99 >= 0 && lastWarmupP99 >= 0 && warmupP99 < 0.8 * lastWarmupP99;
                }
                lastWarmupP99 = warmupP99;
                nextReport += TimeUnit.SECONDS.toNanos(1);
            }
        }
        double seconds = (System.nanoTime() - measureStart) / 1e9;
        out.printf(
                "emitter: at worst %.1f ms behind its schedule while measuring (in the lag: it counts from the"
                        + " schedule)%n",
                maxLateNanos / 1e6);
        CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        long expected = measuredOffered * plan.subscribersPerJob();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (delivered.get() < expected && System.nanoTime() < deadline) Thread.sleep(50);
        for (WebSocket ws : sockets) ws.abort();
        total.add(lags.getIntervalHistogram());
        return new Result(
                plan, measuredOffered, accepted.get(), failedPosts.get(), expected, delivered.get(), total, seconds);
    }

    /** Prints the last second; returns the p99 (ms) of the warm-up's events that arrived in it, -1 if none did. */
    private double progress(String phase, long offered) {
        Histogram second = lags.getIntervalHistogram();
        Histogram warm = warmupLags.getIntervalHistogram();
        boolean warmingUp = !phase.equals("measuring");
        if (!warmingUp) total.add(second);
        Histogram shown = warmingUp ? warm : second;
        out.printf(
                "%-9s offered %9d  accepted %9d  delivered/s %8d  lag p99 %7.1f ms  max %7.1f ms%s%n",
                phase,
                offered,
                accepted.get(),
                shown.getTotalCount(),
                shown.getTotalCount() == 0 ? 0 : shown.getValueAtPercentile(99) / 1000.0,
                shown.getTotalCount() == 0 ? 0 : shown.getMaxValue() / 1000.0,
                warmingUp || warm.getTotalCount() == 0
                        ? ""
                        : String.format(
                                "  (+%d warm-up events, max %.1f ms)",
                                warm.getTotalCount(), warm.getMaxValue() / 1000.0));
        out.flush();
        return warm.getTotalCount() == 0 ? -1 : warm.getValueAtPercentile(99) / 1000.0;
    }

    static String event(long job, int counter, String created, String padding) {
        return "{\"job_id\":" + job + ",\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"load-" + job
                + "-"
                + counter + "\",\"created\":\"" + created + "\",\"stdout\":\"load job " + job + " event " + counter
                + " " + padding + "\",\"start_line\":" + (counter - 1) + ",\"end_line\":" + counter
                + ",\"event_data\":{\"host\":\"host" + counter % 16 + "\",\"task\":\"load\"}}";
    }

    private WebSocket subscribe(int jobIndex) throws Exception {
        long job = plan.firstJob() + jobIndex;
        Subscriber s = new Subscriber(jobIndex);
        NodeClient.Socket socket = node.websocket(s);
        socket.socket()
                .sendText(
                        "{\"groups\":{\"job_events\":[" + job + "]},\"xrftoken\":\"" + socket.xrftoken() + "\"}", true)
                .join();
        return socket.socket();
    }

    /** Records each event's lag on arrival and keeps nothing else; parses only the two fields it needs. */
    private final class Subscriber implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();
        private final int jobIndex;

        Subscriber(int jobIndex) {
            this.jobIndex = jobIndex;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                record(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        private void record(String frame) {
            int i = frame.indexOf("\"created\":\"");
            int c = frame.indexOf("\"counter\":");
            if (i < 0 || c < 0) return;
            long lagMicros = Duration.between(
                                    Timestamps.parse(frame.substring(i + 11, frame.indexOf('"', i + 11))),
                                    Instant.now())
                            .toNanos()
                    / 1000;
            int end = c + 10;
            while (end < frame.length() && Character.isDigit(frame.charAt(end))) end++;
            int counter = Integer.parseInt(frame.substring(c + 10, end));
            if (counter <= measuredAfter[jobIndex]) {
                warmupLags.recordValue(Math.max(0, lagMicros));
                if (counter <= drainMarker[jobIndex]) drainDelivered.incrementAndGet();
                return;
            }
            lags.recordValue(Math.max(0, lagMicros));
            delivered.incrementAndGet();
        }
    }
}
