package io.jobstream.bench;

import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobEvent;
import io.jobstream.postgres.Database;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.postgres.RawCopy;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Ingest throughput, side by side on one PostgreSQL (run by {@code bench/ingest}; not a test):
 * (1) raw binary COPY of the rows, batches of 2,000, one commit each: the limit;
 * (2) jobstream end to end: HTTP POSTs of NDJSON from concurrent emitters until every event is committed (each 200
 *     is sent only after its events' commit).
 * Arguments: [events=200000] [emitters=4] [events-per-request=500]. Prints a Markdown table row per measurement.
 */
public final class IngestBenchmark {
    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int emitters = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int perRequest = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        Path dir = Files.createTempDirectory("jobstream-bench");
        EmbeddedDatabase pg = new EmbeddedDatabase(dir);
        String url = pg.start();
        try {
            Database db = Database.fromUrl(url, 4);
            db.start();
            System.out.printf("events: %d, emitters: %d, events per request: %d, avg event %d bytes%n",
                    events, emitters, perRequest, Events.event(1, 1).length());
            // Round 1 runs on a cold JVM (the JIT has not compiled the decoder and COPY path yet): read rounds 2 and 3.
            for (int round = 1; round <= 3; round++) {
                double raw = rawCopy(db, events, 500_000L * round);
                double e2e = endToEnd(dir, url, events, emitters, perRequest, 1_000L * round);
                System.out.printf("| round %d%s | raw binary COPY: %.0f rows/s | jobstream HTTP ingest -> committed: %.0f events/s"
                        + " | %.0f%% of raw |%n", round, round == 1 ? " (cold)" : "", raw, e2e, 100 * e2e / raw);
            }
            db.close();
        } finally {
            pg.close();
        }
    }

    private static double rawCopy(Database db, int events, long firstJob) throws Exception {
        EventDecoder decoder = new EventDecoder(1 << 20, Clock.systemUTC());
        List<JobEvent> rows = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            Decoded.Ok ok = (Decoded.Ok) decoder.decodeBody(Events.event(firstJob + i / 10_000, i % 10_000 + 1)).get(0);
            rows.add((JobEvent) ok.message());
        }
        RawCopy copy = new RawCopy(db.dataSource());
        long t0 = System.nanoTime();
        for (int from = 0; from < rows.size(); from += 2_000) copy.copy(rows.subList(from, Math.min(from + 2_000, rows.size())));
        return events / ((System.nanoTime() - t0) / 1e9);
    }

    private static double endToEnd(Path dir, String url, int events, int emitters, int perRequest, long firstJob)
            throws Exception {
        List<String> bodies = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < events; i++) {
            body.append(Events.event(firstJob + i / 10_000, i % 10_000 + 1)).append('\n');
            if ((i + 1) % perRequest == 0 || i == events - 1) {
                bodies.add(body.toString());
                body.setLength(0);
            }
        }
        try (RunningServer server = RunningServer.start(dir.resolve("unused"), Map.of("database-url", url))) {
            URI ingest = server.uri("/api/v2/job_events/ingest/");
            ExecutorService pool = Executors.newFixedThreadPool(emitters);
            long t0 = System.nanoTime();
            List<Future<Integer>> replies = new ArrayList<>();
            for (String b : bodies) replies.add(pool.submit(() -> post(ingest, b)));
            for (Future<Integer> f : replies) {
                if (f.get() != 200) throw new IllegalStateException("ingest answered " + f.get());
            }
            double rate = events / ((System.nanoTime() - t0) / 1e9);
            pool.shutdown();
            return rate;
        }
    }

    private static int post(URI ingest, String body) {
        for (int attempt = 0; ; attempt++) {
            HttpResponse<String> r = Http.post(ingest, body);
            if (r.statusCode() != 503 || attempt > 100) return r.statusCode();
        }
    }
}
