package io.jobstream.bench;

import io.jobstream.testing.TestUsers;
import io.jobstream.event.Timestamps;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subscribers of {@code bench/fanout}, in their own JVM so that the server's CPU is the server's: N websocket
 * clients of one job that count frames and record now − created (the publisher stamps {@code created} when it
 * publishes). Prints {@code READY} once all are subscribed, then one {@code RESULT} line.
 * Arguments: uri clients expected-events warmup-events subscribe-message|-
 */
public final class FanoutClients {
    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        int n = Integer.parseInt(args[1]);
        int expected = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        String subscribe = args[4].equals("-") ? null : args[4];
        // a few JDK clients, each with its own selector thread, shared round-robin by the connections
        List<HttpClient> https = new ArrayList<>();
        for (int i = 0; i < Math.min(n, 4); i++) https.add(HttpClient.newHttpClient());
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Client c = new Client(expected, warmup);
            WebSocket ws = https.get(i % https.size()).newWebSocketBuilder().header("Authorization", TestUsers.ADMIN_AUTH).header("Cookie", "csrftoken=bench")
                    .connectTimeout(Duration.ofSeconds(30)).buildAsync(uri, c).get(60, TimeUnit.SECONDS);
            if (subscribe != null) ws.sendText(subscribe, true).get(30, TimeUnit.SECONDS);
            clients.add(c);
        }
        if (subscribe != null) {
            for (Client c : clients) c.subscribed.get(60, TimeUnit.SECONDS);
        }
        System.out.println("READY");
        System.out.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("fanout.timeout", 120));
        for (Client c : clients) {
            long left = deadline - System.nanoTime();
            try {
                c.done.get(Math.max(1, left), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                break;
            }
        }
        long received = 0;
        long first = Long.MAX_VALUE;
        long last = 0;
        int lagCount = 0;
        for (Client c : clients) {
            received += c.received.get();
            first = Math.min(first, c.firstMeasuredNanos);
            last = Math.max(last, c.lastNanos);
            lagCount += c.lagCount;
        }
        long[] lags = new long[lagCount];
        int k = 0;
        for (Client c : clients) {
            System.arraycopy(c.lags, 0, lags, k, c.lagCount);
            k += c.lagCount;
        }
        Arrays.sort(lags);
        long measured = 0;
        for (Client c : clients) measured += c.measured;
        double seconds = (last - first) / 1e9;
        System.out.printf("RESULT received=%d measured=%d seconds=%.3f rate=%.0f p50=%.1f p99=%.1f max=%.1f%n",
                received, measured, seconds, measured / Math.max(seconds, 1e-9), pct(lags, 0.50), pct(lags, 0.99),
                lags.length == 0 ? 0 : lags[lags.length - 1] / 1000.0);
        System.exit(0);
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return 0;
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))] / 1000.0;
    }

    static final class Client implements WebSocket.Listener {
        final CompletableFuture<Void> subscribed = new CompletableFuture<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final AtomicLong received = new AtomicLong();
        final int expected;
        final int warmup;
        final long[] lags;
        int lagCount;
        long measured;
        long firstMeasuredNanos = Long.MAX_VALUE;
        long lastNanos;
        private final StringBuilder partial = new StringBuilder();

        Client(int expected, int warmup) {
            this.expected = expected;
            this.warmup = warmup;
            this.lags = new long[Math.max(0, expected - warmup)];
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String frame = partial.toString();
                partial.setLength(0);
                if (frame.contains("\"groups_current\"")) {
                    subscribed.complete(null);
                } else if (frame.contains("\"counter\":")) {
                    event(frame);
                }
            }
            webSocket.request(1);
            return null;
        }

        private void event(String frame) {
            long n = received.incrementAndGet();
            long nowNanos = System.nanoTime();
            if (n > warmup) {
                if (firstMeasuredNanos == Long.MAX_VALUE) firstMeasuredNanos = nowNanos;
                measured++;
                int at = frame.indexOf("\"created\":\"") + 11;
                long created = Timestamps.micros(Timestamps.parse(frame.substring(at, frame.indexOf('"', at))));
                long now = Timestamps.micros(java.time.Instant.now());
                if (lagCount < lags.length) lags[lagCount++] = now - created;
            }
            lastNanos = nowNanos;
            if (n >= expected) done.complete(null);
        }
    }
}
