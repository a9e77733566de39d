package io.jobstream.diagnosis;

import io.jobstream.metrics.CheckResult;
import io.jobstream.metrics.HealthCheck;
import io.jobstream.metrics.HopHistogram;
import io.jobstream.metrics.Hops;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.search.Search;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers what {@link Rules} reasons from: every {@link #STEP} a {@link Sample} of the node's meters (hop and batch
 * histograms, counters, gauges), its most backed-up websocket connections, and the last database probe; kept for
 * {@link #MAX_WINDOW}. {@link #readings} differences the newest sample against the one a window earlier, as
 * Prometheus's {@code rate()} does, so figures are "over the window", not "since the node started".
 *
 * <p>Threading: one thread ({@code diagnosis-sampler}) samples; a second ({@code diagnosis-probe}) runs the database
 * probe and user-name look-ups, which block when PostgreSQL stalls — exactly when the doctor must still answer, so
 * neither sampling nor {@link #readings} ever waits for the database. {@link #readings} is called from HTTP threads.
 * Ownership: the server starts and closes it.
 */
public final class ReadingsSampler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReadingsSampler.class);
    public static final Duration STEP = Duration.ofSeconds(2);
    public static final Duration MIN_WINDOW = Duration.ofSeconds(5);
    public static final Duration MAX_WINDOW = Duration.ofMinutes(10);
    /** Connections looked at per sample, the most backed-up first (as {@code stats} lists them). */
    public static final int SUBSCRIBERS = 20;

    /** One connection as the websocket endpoint reports it. */
    public record Connection(long user, String remote, List<Long> jobs, long queued, boolean catchingUp) {}

    /** Where the readings come from besides the meters: the database probe, the connections, user names. */
    public record Sources(
            HealthCheck database,
            Supplier<List<Connection>> connections,
            LongFunction<Optional<String>> username,
            boolean clusterMode) {}

    private record TimerSample(long count, double totalMillis, double[] bounds, double[] cumulative) {
        static final TimerSample EMPTY = new TimerSample(0, 0, new double[0], new double[0]);
    }

    /** A completed probe (seq counts them) and, if one was running at the sample, since how long. */
    private record Probe(long seq, boolean ok, long millis, String reason) {}

    private record Sample(
            long at,
            Map<String, TimerSample> timers,
            Map<String, Double> counters,
            long depth,
            long capacity,
            int connections,
            List<Connection> subscribers,
            Probe probe,
            long probeRunningMillis) {}

    private static final String BATCH = "batch";
    private static final String BATCH_SIZE_COUNT = "batch_size_count";
    private static final String BATCH_SIZE_TOTAL = "batch_size_total";
    private static final String REQUESTS = "requests";
    private static final String REQUESTS_503 = "requests_503";

    private final MeterRegistry registry;
    private final Clock clock;
    private final Sources sources;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>(); // guarded by this
    private final Map<Long, String> usernames = new ConcurrentHashMap<>();
    private final AtomicLong probeRunningSince = new AtomicLong(-1); // nanoTime, -1 when none runs
    private volatile Probe lastProbe = new Probe(0, true, 0, null);
    private ScheduledExecutorService sampler;
    private ExecutorService prober;

    public ReadingsSampler(MeterRegistry registry, Clock clock, Sources sources) {
        this.registry = registry;
        this.clock = clock;
        this.sources = sources;
    }

    public ReadingsSampler start() {
        prober = Executors.newSingleThreadExecutor(daemon("diagnosis-probe"));
        sampler = Executors.newSingleThreadScheduledExecutor(daemon("diagnosis-sampler"));
        sampler.scheduleAtFixedRate(this::sampleSafely, 0, STEP.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** A scheduled task that throws is never run again: this one logs and carries on. */
    private void sampleSafely() {
        try {
            sample();
        } catch (RuntimeException e) {
            log.warn("diagnosis: a sample failed: {}", e.toString());
        }
    }

    /** Takes one sample and starts a database probe unless one is still running; by the timer, and by tests. */
    void sample() {
        startProbe();
        long running = probeRunningSince.get();
        long runningMillis = running < 0 ? 0 : (System.nanoTime() - running) / 1_000_000;
        List<Connection> connections = sources.connections().get();
        for (Connection c : connections) {
            if (behind(c) && !usernames.containsKey(c.user())) lookUpName(c.user());
        }
        Sample s = new Sample(
                clock.millis(),
                timers(),
                counters(),
                Math.round(gauge(Metrics.QUEUE_DEPTH)),
                Math.round(gauge(Metrics.QUEUE_CAPACITY)),
                (int) Math.round(gauge(Metrics.WS_SUBSCRIBERS)),
                connections,
                lastProbe,
                runningMillis);
        synchronized (this) {
            samples.addLast(s);
            while (samples.size() > 2 && s.at() - samples.peekFirst().at() > MAX_WINDOW.toMillis() + STEP.toMillis())
                samples.removeFirst();
        }
    }

    private void startProbe() {
        if (prober == null || !probeRunningSince.compareAndSet(-1, System.nanoTime())) return;
        long seq = lastProbe.seq() + 1;
        prober.execute(() -> {
            long start = probeRunningSince.get();
            CheckResult result;
            try {
                result = sources.database().check();
            } catch (RuntimeException e) {
                result = CheckResult.failed("error", e.toString());
            }
            lastProbe = new Probe(seq, result.ok(), (System.nanoTime() - start) / 1_000_000, result.state());
            probeRunningSince.set(-1);
        });
    }

    private void lookUpName(long user) {
        usernames.put(user, "user " + user); // until the look-up answers; asked once
        if (prober == null) return;
        prober.execute(() -> {
            try {
                sources.username().apply(user).ifPresent(name -> usernames.put(user, name));
            } catch (RuntimeException e) {
                log.debug("diagnosis: no name for user {}: {}", user, e.toString());
            }
        });
    }

    private static boolean behind(Connection c) {
        return c.queued() >= Rules.SUBSCRIBER_BEHIND || c.catchingUp();
    }

    /** What the samples say about the last {@code window} (clamped to {@link #MIN_WINDOW}..{@link #MAX_WINDOW}). */
    public synchronized Readings readings(Duration window) {
        long seconds = window.toSeconds();
        if (samples.isEmpty()) return empty(seconds);
        Sample last = samples.peekLast();
        Sample base = samples.peekFirst();
        List<Sample> in = new ArrayList<>();
        for (Sample s : samples) {
            if (s.at() <= last.at() - window.toMillis()) base = s;
            else in.add(s);
        }
        if (base != last) in.remove(base);
        double coveredMillis = Math.max(1, last.at() - base.at());
        Map<String, Readings.Hop> hops = new HashMap<>();
        for (String hop : Metrics.HOPS) hops.put(hop, hop(timer(last, hop), timer(base, hop)));
        return new Readings(
                seconds,
                coveredMillis / 1000,
                in.size(),
                sources.clusterMode(),
                hops,
                queue(last, in),
                batches(last, base, coveredMillis),
                probes(last, base, in),
                new Readings.Relay(
                        delta(last, base, Metrics.RELAY_PUBLISHED),
                        delta(last, base, Metrics.RELAY_RECEIVED),
                        delta(last, base, Metrics.RELAY_FAILURES)),
                new Readings.Ingest(
                        delta(last, base, REQUESTS),
                        delta(last, base, REQUESTS_503),
                        delta(last, base, Metrics.EVENTS_RATE_LIMITED)),
                last.connections(),
                subscribers(last, in));
    }

    private Readings empty(long seconds) {
        return new Readings(
                seconds,
                0,
                0,
                sources.clusterMode(),
                Map.of(),
                new Readings.Queue(0, 0, 0, 0),
                new Readings.Batches(0, 0, 0, 0, 0, 0, 0, 0),
                new Readings.Probes(0, 0, 0, 0, null),
                new Readings.Relay(0, 0, 0),
                new Readings.Ingest(0, 0, 0),
                0,
                List.of());
    }

    private static Readings.Hop hop(TimerSample now, TimerSample before) {
        long events = now.count() - before.count();
        if (events <= 0) return Readings.Hop.NONE;
        return new Readings.Hop(
                events,
                (now.totalMillis() - before.totalMillis()) / events,
                percentile(now, before, events, 0.50),
                percentile(now, before, events, 0.99));
    }

    /** The upper bound of the first bucket whose share of the window's events reaches {@code q}. */
    private static double percentile(TimerSample now, TimerSample before, long events, double q) {
        for (int i = 0; i < now.bounds().length; i++) {
            if (countAtMost(now, i) - countAtMost(before, i) >= q * events) return now.bounds()[i];
        }
        return Double.POSITIVE_INFINITY;
    }

    private static double countAtMost(TimerSample s, int bucket) {
        return bucket < s.cumulative().length ? s.cumulative()[bucket] : 0;
    }

    private static double countAtMost(TimerSample s, double boundMillis) {
        for (int i = 0; i < s.bounds().length; i++) {
            if (s.bounds()[i] >= boundMillis) return s.cumulative()[i];
        }
        return s.count();
    }

    private Readings.Queue queue(Sample last, List<Sample> in) {
        long max = last.depth();
        int high = 0;
        for (Sample s : in) {
            max = Math.max(max, s.depth());
            if (s.capacity() > 0 && s.depth() >= Rules.QUEUE_HIGH * s.capacity()) high++;
        }
        return new Readings.Queue(last.capacity(), last.depth(), max, in.isEmpty() ? 0 : (double) high / in.size());
    }

    private static Readings.Batches batches(Sample last, Sample base, double coveredMillis) {
        TimerSample now = timer(last, BATCH);
        TimerSample before = timer(base, BATCH);
        long count = now.count() - before.count();
        double total = now.totalMillis() - before.totalMillis();
        long slow = count
                - Math.round(countAtMost(now, Rules.SLOW_BATCH_MILLIS) - countAtMost(before, Rules.SLOW_BATCH_MILLIS));
        double sizes = last.counters().getOrDefault(BATCH_SIZE_TOTAL, 0.0)
                - base.counters().getOrDefault(BATCH_SIZE_TOTAL, 0.0);
        return new Readings.Batches(
                count,
                count > 0 ? total / count : 0,
                count > 0 ? percentile(now, before, count, 0.99) : 0,
                Math.max(0, slow),
                batchCount(last, base) > 0 ? sizes / batchCount(last, base) : 0,
                Math.min(1, total / coveredMillis),
                delta(last, base, Metrics.EVENTS_STORED),
                delta(last, base, Metrics.PERSIST_FAILURES));
    }

    private static double batchCount(Sample last, Sample base) {
        return last.counters().getOrDefault(BATCH_SIZE_COUNT, 0.0)
                - base.counters().getOrDefault(BATCH_SIZE_COUNT, 0.0);
    }

    private static Readings.Probes probes(Sample last, Sample base, List<Sample> in) {
        int probes = 0;
        int failed = 0;
        int slow = 0;
        long worst = 0;
        String lastFailure = null;
        long seenSeq = base == last ? -1 : base.probe().seq(); // a probe that ended before the window is not in it
        for (Sample s : in) {
            Probe p = s.probe();
            if (p.seq() == 0 || p.seq() == seenSeq) continue; // none yet, or already counted
            seenSeq = p.seq();
            probes++;
            worst = Math.max(worst, p.millis());
            if (!p.ok()) {
                failed++;
                lastFailure = p.reason();
            } else if (p.millis() >= Rules.SLOW_PROBE_MILLIS) slow++;
        }
        if (last.probeRunningMillis() >= Rules.SLOW_PROBE_MILLIS) { // still waiting for an answer: slow already
            slow++;
            worst = Math.max(worst, last.probeRunningMillis());
        }
        return new Readings.Probes(probes, failed, slow, worst, lastFailure);
    }

    private List<Readings.Subscriber> subscribers(Sample last, List<Sample> in) {
        List<Readings.Subscriber> out = new ArrayList<>();
        for (Connection c : last.subscribers()) {
            int behindSamples = 0;
            long max = 0;
            long runStart = -1;
            for (Sample s : in) {
                Connection then = find(s, c);
                boolean behind = then != null && behind(then);
                if (then != null) max = Math.max(max, then.queued());
                if (behind) {
                    behindSamples++;
                    if (runStart < 0) runStart = s.at();
                } else runStart = -1;
            }
            double behindSeconds = runStart < 0 ? 0 : (last.at() - runStart) / 1000.0;
            out.add(new Readings.Subscriber(
                    c.user(),
                    usernames.getOrDefault(c.user(), "user " + c.user()),
                    c.remote(),
                    c.jobs(),
                    c.queued(),
                    max,
                    c.catchingUp(),
                    in.isEmpty() ? 0 : (double) behindSamples / in.size(),
                    behindSeconds));
        }
        return out;
    }

    private static Connection find(Sample s, Connection c) {
        for (Connection other : s.subscribers()) {
            if (other.user() == c.user() && other.remote().equals(c.remote())) return other;
        }
        return null;
    }

    private static TimerSample timer(Sample s, String key) {
        return s.timers().getOrDefault(key, TimerSample.EMPTY);
    }

    private static long delta(Sample last, Sample base, String key) {
        return Math.max(
                0,
                Math.round(
                        last.counters().getOrDefault(key, 0.0) - base.counters().getOrDefault(key, 0.0)));
    }

    private Map<String, TimerSample> timers() {
        Map<String, TimerSample> out = new HashMap<>();
        double[] bounds = HopHistogram.Snapshot.boundsMillis();
        Hops.on(registry)
                .snapshot()
                .forEach((hop, s) -> out.put(hop, new TimerSample(s.count(), s.totalMillis(), bounds, s.cumulative())));
        Timer batch = registry.find(Metrics.PERSIST_BATCH_DURATION).timer();
        if (batch != null) out.put(BATCH, of(batch));
        return out;
    }

    private static TimerSample of(Timer t) {
        var s = t.takeSnapshot();
        var buckets = s.histogramCounts();
        double[] bounds = new double[buckets.length];
        double[] cumulative = new double[buckets.length];
        for (int i = 0; i < buckets.length; i++) {
            bounds[i] = buckets[i].bucket(TimeUnit.MILLISECONDS);
            cumulative[i] = buckets[i].count();
        }
        return new TimerSample(s.count(), s.total(TimeUnit.MILLISECONDS), bounds, cumulative);
    }

    private Map<String, Double> counters() {
        Map<String, Double> out = new HashMap<>();
        for (String name : List.of(
                Metrics.EVENTS_STORED,
                Metrics.PERSIST_FAILURES,
                Metrics.EVENTS_RATE_LIMITED,
                Metrics.RELAY_PUBLISHED,
                Metrics.RELAY_RECEIVED,
                Metrics.RELAY_FAILURES)) {
            out.put(
                    name,
                    Search.in(registry).name(name).counters().stream()
                            .mapToDouble(Counter::count)
                            .sum());
        }
        double requests = 0;
        double unavailable = 0;
        for (Counter c : Search.in(registry).name(Metrics.INGEST_REQUESTS).counters()) {
            requests += c.count();
            if ("503".equals(c.getId().getTag("status"))) unavailable += c.count();
        }
        out.put(REQUESTS, requests);
        out.put(REQUESTS_503, unavailable);
        DistributionSummary sizes = registry.find(Metrics.PERSIST_BATCH_SIZE).summary();
        out.put(BATCH_SIZE_COUNT, sizes == null ? 0.0 : sizes.count());
        out.put(BATCH_SIZE_TOTAL, sizes == null ? 0.0 : sizes.totalAmount());
        return out;
    }

    private double gauge(String name) {
        Gauge g = registry.find(name).gauge();
        return g == null ? 0 : g.value();
    }

    @Override
    public void close() {
        if (sampler != null) sampler.shutdownNow();
        if (prober != null) prober.shutdownNow();
    }
}
