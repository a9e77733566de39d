package io.jobstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeProcess;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One websocket subscriber of {@link ChaosBenchmark}, as a browser would be: subscribed to every job, and when its
 * node goes away it connects again (to the same slot's node once restarted, else another) with {@code resume} set
 * to the last counter it has of each job. It counts, per job, what SPEC §5 forbids: a counter delivered twice, one
 * that comes after a higher one (out of order), and counters jumped over (skipped).
 */
final class ChaosSubscriber implements WebSocket.Listener {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ScheduledExecutorService RECONNECT = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "chaos-reconnect");
        t.setDaemon(true);
        return t;
    });

    /** What one job's events looked like to this subscriber. */
    private static final class Seen {
        final BitSet counters = new BitSet();
        int last;
        long delivered;
        long duplicated;
        long outOfOrder;
        long skipped;
    }

    private final List<Long> jobs;
    private final Supplier<NodeProcess> node;
    private final Map<Long, Seen> seen = new HashMap<>(); // guarded by this
    private final StringBuilder partial = new StringBuilder();
    private volatile boolean closed;
    private volatile WebSocket socket;
    private long reconnects;

    ChaosSubscriber(List<Long> jobs, Supplier<NodeProcess> node) {
        this.jobs = jobs;
        this.node = node;
        for (long job : jobs) seen.put(job, new Seen());
    }

    /** Connects and subscribes with resume; on failure tries again in half a second, until closed. */
    void connect() {
        if (closed) return;
        try {
            NodeProcess target = node.get();
            WebSocket ws = HTTP.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(3))
                    .header("Cookie", "csrftoken=chaos")
                    .header("Authorization", TestUsers.ADMIN_AUTH)
                    .buildAsync(target.websocketUri(), this)
                    .get(5, TimeUnit.SECONDS);
            socket = ws;
            ws.sendText(subscribeMessage(), true).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            retry();
        }
    }

    private synchronized String subscribeMessage() {
        StringJoiner resume = new StringJoiner(",", "{", "}");
        for (long job : jobs) resume.add("\"" + job + "\":" + seen.get(job).last);
        return "{\"xrftoken\":\"chaos\",\"groups\":{\"job_events\":" + jobs + "},\"resume\":" + resume + "}";
    }

    private void retry() {
        if (closed) return;
        synchronized (this) {
            reconnects++;
        }
        RECONNECT.schedule(this::connect, 500, TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            JsonNode m = Http.json(partial.toString());
            partial.setLength(0);
            if ("job_events".equals(m.path("group_name").asText()))
                event(m.path("job").asLong(), m.path("counter").asInt());
        }
        webSocket.request(1);
        return null;
    }

    private synchronized void event(long job, int counter) {
        Seen s = seen.get(job);
        if (s == null) return;
        s.delivered++;
        if (s.counters.get(counter)) {
            s.duplicated++;
        } else if (counter < s.last) {
            s.outOfOrder++;
        } else if (counter > s.last + 1) {
            s.skipped += counter - s.last - 1;
        }
        s.counters.set(counter);
        s.last = Math.max(s.last, counter);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        if (webSocket == socket) retry();
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        if (webSocket == socket) retry();
    }

    /** Whether it has every counter up to each job's final one. */
    synchronized boolean complete(List<Integer> finals) {
        return missing(finals) == 0;
    }

    /** Counters up to each job's final one it never got. */
    synchronized long missing(List<Integer> finals) {
        long n = 0;
        for (int j = 0; j < jobs.size(); j++) {
            BitSet got = seen.get(jobs.get(j)).counters;
            n += finals.get(j) - got.get(1, finals.get(j) + 1).cardinality();
        }
        return n;
    }

    synchronized long delivered() {
        return seen.values().stream().mapToLong(s -> s.delivered).sum();
    }

    synchronized long duplicated() {
        return seen.values().stream().mapToLong(s -> s.duplicated).sum();
    }

    synchronized long outOfOrder() {
        return seen.values().stream().mapToLong(s -> s.outOfOrder).sum();
    }

    synchronized long skipped() {
        return seen.values().stream().mapToLong(s -> s.skipped).sum();
    }

    synchronized long reconnects() {
        return reconnects;
    }

    void close() {
        closed = true;
        WebSocket ws = socket;
        if (ws != null) ws.abort();
    }
}
