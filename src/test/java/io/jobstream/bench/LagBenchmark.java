package io.jobstream.bench;

import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import io.jobstream.testing.RunningServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * End-to-end lag under a steady offered load (run by {@code bench/lag}; not a test): an emitter posts events at a
 * fixed rate, each with {@code created} = the moment it is posted, and N websocket subscribers of the job record
 * now − created when each event arrives: emitter → HTTP → queue → COPY + commit → broadcast → socket → client.
 * The first 10 seconds of events warm the JVM (JIT) and PostgreSQL up and are not counted.
 * Arguments: [events-per-second=10000] [subscribers=10] [seconds=20].
 */
public final class LagBenchmark {
    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int subscribers = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int tickMs = 10;
        int perTick = rate * tickMs / 1000;
        int warmup = rate * 10;
        int total = warmup + perTick * (seconds * 1000 / tickMs);
        try (RunningServer server = RunningServer.start(Files.createTempDirectory("jobstream-lag"))) {
            HttpClient http = HttpClient.newHttpClient();
            List<Recorder> clients = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) clients.add(Recorder.subscribe(http, server.websocketUri(), total, warmup));
            URI ingest = server.uri("/api/v2/job_events/ingest/");
            AtomicInteger failures = new AtomicInteger();
            List<CompletableFuture<?>> posts = new ArrayList<>();
            long start = System.nanoTime();
            int counter = 0;
            for (int tick = 0; counter < total; tick++) {
                long due = start + TimeUnit.MILLISECONDS.toNanos((long) tick * tickMs);
                long wait = due - System.nanoTime();
                if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                StringBuilder body = new StringBuilder();
                for (int k = 0; k < perTick; k++) body.append(Events.event(1, ++counter)).append('\n');
                posts.add(http.sendAsync(HttpRequest.newBuilder(ingest).POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                        HttpResponse.BodyHandlers.discarding()).thenAccept(r -> {
                            if (r.statusCode() != 200) failures.incrementAndGet();
                        }));
            }
            double offeredSeconds = (System.nanoTime() - start) / 1e9;
            CompletableFuture.allOf(posts.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
            CompletableFuture.allOf(clients.stream().map(c -> c.done).toArray(CompletableFuture[]::new))
                    .completeOnTimeout(null, 60, TimeUnit.SECONDS).join(); // report what arrived, even if short
            long[] all = clients.stream()
                    .flatMapToLong(c -> Arrays.stream(c.lagsMicros, 0, Math.min(c.count.get(), c.lagsMicros.length)))
                    .sorted().toArray();
            System.out.printf("| %d events/s offered for %.1f s (%d measured events), %d subscribers | delivered %d of %d |"
                            + " lag created->websocket p50 %.1f ms, p99 %.1f ms, max %.1f ms | non-200 posts: %d |%n",
                    rate, offeredSeconds, total - warmup, subscribers, all.length, (long) (total - warmup) * subscribers,
                    pct(all, 0.50), pct(all, 0.99), all[all.length - 1] / 1000.0, failures.get());
            // Lag over time (first subscriber, in arrival order, ten slices): a steady tail or a backlog building up?
            Recorder first = clients.get(0);
            int n = Math.min(first.count.get(), first.lagsMicros.length);
            StringBuilder slices = new StringBuilder("  p99 per tenth of the run (ms):");
            for (int k = 0; k < 10 && n >= 10; k++) {
                long[] slice = Arrays.copyOfRange(first.lagsMicros, k * n / 10, (k + 1) * n / 10);
                Arrays.sort(slice);
                slices.append(String.format(" %.0f", pct(slice, 0.99)));
            }
            System.out.println(slices);
            String metrics = http.send(HttpRequest.newBuilder(server.uri("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            metrics.lines().filter(l -> l.matches("(lag_committed_seconds_(count|sum|max)|persist_batch_size_(count|sum|max)"
                    + "|persist_batch_duration_seconds_(count|sum|max)|lag_received_seconds_(sum|max)).*"))
                    .forEach(l -> System.out.println("  " + l));
        }
    }

    private static double pct(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000.0;
    }

    /** A subscriber that records each event's lag on arrival and keeps nothing else. */
    static final class Recorder implements WebSocket.Listener {
        final long[] lagsMicros;
        final AtomicInteger count = new AtomicInteger();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();
        private final int warmup;

        Recorder(int total, int warmup) {
            this.lagsMicros = new long[total - warmup];
            this.warmup = warmup;
        }

        static Recorder subscribe(HttpClient http, URI uri, int total, int warmup) {
            return subscribe(http, uri, total, warmup, 1);
        }

        static Recorder subscribe(HttpClient http, URI uri, int total, int warmup, long job) {
            Recorder r = new Recorder(total, warmup);
            WebSocket ws = http.newWebSocketBuilder().header("Cookie", "csrftoken=bench").buildAsync(uri, r).join();
            ws.sendText("{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[" + job + "]}}", true).join();
            return r;
        }

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                record(partial);
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        private void record(CharSequence frame) {
            String s = frame.toString();
            int i = s.indexOf("\"created\":\"");
            if (i < 0 || !s.contains("\"group_name\":\"job_events\"")) return;
            Instant created = Timestamps.parse(s.substring(i + 11, s.indexOf('"', i + 11)));
            long lag = Duration.between(created, Instant.now()).toNanos() / 1000;
            int c = s.indexOf("\"counter\":");
            if (Integer.parseInt(s.substring(c + 10, s.indexOf(',', c))) <= warmup) return;
            int n = count.getAndIncrement();
            if (n < lagsMicros.length) lagsMicros[n] = lag;
            if (n + 1 == lagsMicros.length) done.complete(null);
        }
    }
}
