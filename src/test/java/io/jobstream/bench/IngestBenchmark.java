package io.jobstream.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.postgres.Database;
import io.jobstream.postgres.RawCopy;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;

/**
 * Ingest throughput, side by side on one PostgreSQL (run by {@code bench/ingest}; not a test):
 * (1) raw binary COPY of the rows, batches of 2,000, one commit each: the limit;
 * (2) jobstream end to end: HTTP POSTs of NDJSON from concurrent emitters until every event is committed (each 200
 *     is sent only after its events' commit).
 * Arguments: [events=200000] [emitters=4] [events-per-request=500] [rounds=3]. Prints a Markdown table row per
 * round, with the CPU each side spent per event (this JVM: emitters, server and COPY client; PostgreSQL: the postmaster
 * and its backends) and the share of the machine other processes took meanwhile, then one {@code RESULT} JSON line.
 */
public final class IngestBenchmark {
    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1); // a failed round leaves server threads behind: do not hang
        }
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int emitters = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int perRequest = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Path dir = Files.createTempDirectory("jobstream-bench");
        BenchPostgres pg = BenchPostgres.start(dir.resolve("db"), "INGEST_PG");
        String url = pg.url();
        // Ctrl-C or a kill during a round: stop the PostgreSQL we started, or it outlives us holding its port and
        // memory (only SIGKILL leaves it behind; then stop it by the pid in the temporary directory's
        // db/pg/postmaster.pid)
        Thread stopper = new Thread(pg::close, "bench-stop-postgres");
        Runtime.getRuntime().addShutdownHook(stopper);
        try {
            Database db = Database.fromUrl(url, 4);
            db.start();
            System.out.printf(
                    "mix: %s, events: %d, emitters: %d (%s), events per request: %d, avg event %d bytes%n",
                    RECORDED == null ? "synthetic" : "recorded",
                    events,
                    emitters,
                    PER_EMITTER ? "a job each, in order" : "sharing jobs of 10,000 events",
                    perRequest,
                    averageBytes());
            // Round 1 runs on a cold JVM (the JIT has not compiled the decoder and COPY path yet): read rounds 2 and 3.
            Cpu cpu = new Cpu(pg.data());
            StringBuilder json = new StringBuilder();
            for (int round = 1; round <= rounds; round++) {
                Cpu.Sample a = cpu.sample();
                double raw = rawCopy(db, events, 500_000L * round);
                Cpu.Sample b = cpu.sample();
                Ingest e2e = endToEnd(dir, url, events, emitters, perRequest, 1_000L * round, cpu);
                System.out.printf(
                        "| round %d%s | raw binary COPY: %.0f rows/s | jobstream HTTP ingest -> committed: %.0f events/s"
                                + " | %.0f%% of raw | CPU us/event raw: jvm %.1f pg %.1f | ingest: jvm %.1f pg %.1f | receiver busy %.0f%%,"
                                + " mean batch %.0f | other %.0f%% of machine | load %.1f |%n",
                        round,
                        round == 1 ? " (cold)" : "",
                        raw,
                        e2e.rate,
                        100 * e2e.rate / raw,
                        a.jvmMicrosTo(b, events),
                        a.pgMicrosTo(b, events),
                        e2e.jvmMicros,
                        e2e.pgMicros,
                        100 * e2e.receiverBusy,
                        e2e.meanBatch,
                        100 * e2e.otherShare,
                        Cpu.loadAverage());
                json.append(json.length() == 0 ? "" : ",")
                        .append(String.format(
                                Locale.ROOT,
                                "{\"round\":%d,\"raw_rows_per_s\":%.0f,\"ingest_events_per_s\":%.0f,\"ratio\":%.3f,"
                                        + "\"jvm_us_per_event\":%.1f,\"pg_us_per_event\":%.1f,\"receiver_busy\":%.2f,"
                                        + "\"other_share\":%.2f,\"load\":%.1f}",
                                round,
                                raw,
                                e2e.rate,
                                e2e.rate / raw,
                                e2e.jvmMicros,
                                e2e.pgMicros,
                                e2e.receiverBusy,
                                e2e.otherShare,
                                Cpu.loadAverage()));
            }
            // one line for bench/all to pick up
            System.out.println("RESULT {\"mix\":\"" + (RECORDED == null ? "synthetic" : "recorded") + "\",\"events\":"
                    + events + ",\"emitters\":" + emitters + ",\"per_request\":" + perRequest + ",\"rounds\":[" + json
                    + "]}");
            db.close();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
                pg.close();
                // PostgreSQL's data and each round's node: ~1 GB per run, each run used to leave it behind in /tmp
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder())
                            .forEach(f -> f.toFile().delete());
                }
            } catch (IllegalStateException shuttingDown) {
                // the hook is stopping it
            }
        }
    }

    private static double rawCopy(Database db, int events, long firstJob) throws Exception {
        EventDecoder decoder = new EventDecoder(1 << 20, Clock.systemUTC());
        List<JobEvent> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            Decoded.Ok ok = (Decoded.Ok) decoder.decodeBody(event(firstJob + i / 10_000, i % 10_000 + 1))
                    .get(0);
            rows.add((JobEvent) ok.message());
        }
        RawCopy copy = new RawCopy(db.dataSource());
        long t0 = System.nanoTime();
        for (int from = 0; from < rows.size(); from += 2_000)
            copy.copy(rows.subList(from, Math.min(from + 2_000, rows.size())));
        return events / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Default: jobs of 10,000 events one after the other, every emitter taking the next request of the one list (so
     * the emitters send one or two jobs at a time, out of counter order). INGEST_SHAPE=per-emitter: each emitter
     * sends a job of its own, in counter order, one request at a time, as concurrent playbooks do.
     */
    private static final boolean PER_EMITTER = "per-emitter".equals(System.getenv("INGEST_SHAPE"));

    /**
     * INGEST_MIX=recorded: the 788 events of the recorded real Ansible run (median 1.2 KB, p99 32 KB) over and over,
     * each given the job id and counter of its place; otherwise the synthetic ~230-byte events.
     */
    private static final List<ObjectNode> RECORDED = "recorded".equals(System.getenv("INGEST_MIX")) ? recorded() : null;

    static String event(long job, int counter) {
        if (RECORDED == null) return Events.event(job, counter);
        ObjectNode e = RECORDED.get((counter - 1) % RECORDED.size()).deepCopy();
        e.put("job_id", job);
        e.put("counter", counter);
        return e.toString();
    }

    private static int averageBytes() {
        long sum = 0;
        for (int i = 1; i <= 788; i++) sum += event(1, i).length();
        return (int) (sum / 788);
    }

    private static List<ObjectNode> recorded() {
        List<ObjectNode> events = new ArrayList<>();
        try (var in = IngestBenchmark.class.getResourceAsStream("/demo/ansible-runner-events.jsonl.gz");
                var reader =
                        new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                events.add((ObjectNode) Json.MAPPER.readTree(line));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return events;
    }

    /** One timed ingest: rate, CPU per event over the timed window, and how busy the receiver thread was. */
    record Ingest(
            double rate, double jvmMicros, double pgMicros, double otherShare, double receiverBusy, double meanBatch) {}

    private static Ingest endToEnd(
            Path dir, String url, int events, int emitters, int perRequest, long firstJob, Cpu cpu) throws Exception {
        List<List<String>> lanes = new ArrayList<>();
        for (int k = 0; k < (PER_EMITTER ? emitters : 1); k++) lanes.add(new ArrayList<>());
        StringBuilder body = new StringBuilder();
        int share = (events + emitters - 1) / emitters;
        for (int i = 0; i < events; i++) {
            int k = PER_EMITTER ? i / share : 0;
            int counter = PER_EMITTER ? i % share + 1 : i % 10_000 + 1;
            body.append(event(firstJob + (PER_EMITTER ? k : i / 10_000), counter))
                    .append('\n');
            boolean last = i == events - 1 || PER_EMITTER && (i + 1) % share == 0;
            if (counter % perRequest == 0 || last) {
                lanes.get(k).add(body.toString());
                body.setLength(0);
            }
        }
        Map<String, String> settings = new HashMap<>(Map.of("database-url", url));
        // e.g. INGEST_NODE_SETTINGS="persist.max-batch=5000": node settings (their keys) to try
        for (String kv :
                System.getenv().getOrDefault("INGEST_NODE_SETTINGS", "").trim().split("\\s+")) {
            if (kv.contains("=")) settings.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        try (RunningServer server = RunningServer.start(dir.resolve("unused"), settings)) {
            URI ingest = server.uri("/api/v2/job_events/ingest/");
            URI metrics = server.uri("/metrics");
            // One request first, so the Basic credential is verified (and cached) before 16 emitters start at once:
            // concurrent first checks of one credential count as attempts against auth.failed-logins-per-user.
            Http.get(server.uri("/api/v2/me/"));
            ExecutorService pool = Executors.newFixedThreadPool(emitters);
            double busy0 = MetricsText.value(metrics, "persist_batch_duration_seconds_sum");
            double batches0 = MetricsText.value(metrics, "persist_batch_size_count");
            double messages0 = MetricsText.value(metrics, "persist_batch_size_sum");
            Cpu.Sample a = cpu.sample();
            long t0 = System.nanoTime();
            List<Future<HttpResponse<String>>> replies = new ArrayList<>();
            if (PER_EMITTER) {
                for (List<String> own : lanes) replies.add(pool.submit(() -> postAll(ingest, own)));
            } else {
                for (String b : lanes.get(0)) replies.add(pool.submit(() -> post(ingest, b)));
            }
            for (Future<HttpResponse<String>> f : replies) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() != 200) {
                    String reply = r.body().length() > 500 ? r.body().substring(0, 500) + "..." : r.body();
                    throw new IllegalStateException("ingest answered " + r.statusCode() + ": " + reply);
                }
            }
            long nanos = System.nanoTime() - t0;
            Cpu.Sample b = cpu.sample();
            pool.shutdown();
            double busy = MetricsText.value(metrics, "persist_batch_duration_seconds_sum") - busy0;
            double batches = MetricsText.value(metrics, "persist_batch_size_count") - batches0;
            double messages = MetricsText.value(metrics, "persist_batch_size_sum") - messages0;
            return new Ingest(
                    events / (nanos / 1e9),
                    a.jvmMicrosTo(b, events),
                    a.pgMicrosTo(b, events),
                    a.otherShareTo(b),
                    busy / (nanos / 1e9),
                    batches == 0 ? 0 : messages / batches);
        }
    }

    /** The bodies one after the other; the first reply that is not a 200, or the last one. */
    private static HttpResponse<String> postAll(URI ingest, List<String> bodies) {
        HttpResponse<String> r = null;
        for (String b : bodies) {
            r = post(ingest, b);
            if (r.statusCode() != 200) return r;
        }
        return r;
    }

    private static HttpResponse<String> post(URI ingest, String body) {
        for (int attempt = 0; ; attempt++) {
            HttpResponse<String> r = Http.post(ingest, body);
            if (r.statusCode() != 503 || attempt > 100) return r;
        }
    }

    /** CPU samples of this JVM, the embedded PostgreSQL (postmaster, live and reaped backends) and the machine. */
    static final class Cpu {
        private static final double TICK_MICROS = 1e6 / ProcessCpu.HZ;
        private final Path pgData;

        Cpu(Path pgData) {
            this.pgData = pgData;
        }

        record Sample(long jvm, long pg, long machine, long nanos) {
            double jvmMicrosTo(Sample later, int events) {
                return Math.max(0, later.jvm - jvm) * TICK_MICROS / events;
            }

            /**
             * Backends that exited in the window count through the postmaster's reaped-children time; one that
             * exited but is not reaped yet when the window closes is missing until the next sample.
             */
            double pgMicrosTo(Sample later, int events) {
                return Math.max(0, later.pg - pg) * TICK_MICROS / events;
            }

            /** Busy share of the machine (all cores) taken by neither this JVM nor PostgreSQL. */
            double otherShareTo(Sample later) {
                double cores = Runtime.getRuntime().availableProcessors();
                double wallTicks = (later.nanos - nanos) / 1e9 * ProcessCpu.HZ;
                long other = (later.machine - machine) - (later.jvm - jvm) - (later.pg - pg);
                return Math.max(0, other / (wallTicks * cores));
            }
        }

        Sample sample() {
            return new Sample(
                    ProcessCpu.ticks(ProcessHandle.current().pid()),
                    ProcessCpu.postgresTicks(pgData),
                    ProcessCpu.machineTicks(),
                    System.nanoTime());
        }

        static double loadAverage() {
            try {
                return Double.parseDouble(ProcessCpu.loadAverage().split(" ")[0]);
            } catch (RuntimeException e) {
                return -1;
            }
        }
    }
}
