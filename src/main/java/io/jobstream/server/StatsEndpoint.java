package io.jobstream.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.jobstream.auth.Access;
import io.jobstream.event.Json;
import io.jobstream.metrics.Metrics;
import io.jobstream.metrics.RecentHops;
import io.jobstream.queue.EventQueue;
import io.jobstream.websocket.WebsocketEndpoint;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * {@code GET /api/v2/stats/}: the live state of this node as JSON (what {@code ./jobstream stats --url} prints and,
 * in cluster mode, what the node publishes with its heartbeat). Read from the meters, so it always agrees with
 * {@code /metrics}; the {@code cluster} part (shared stream and lists) is read from Redis on request only.
 */
final class StatsEndpoint {
    static final String PATH = "/api/v2/stats/";
    /** Subscribers listed, the most backed-up first: enough to find the slow ones on a node with thousands. */
    static final int TOP_SUBSCRIBERS = 20;

    private final String node;
    private final String mode;
    private final Supplier<String> url;
    private final Clock clock;
    private final Instant started;
    private final MeterRegistry registry;
    private final EventQueue queue;
    private final BooleanSupplier receiverAlive;
    private final Supplier<Map<String, Object>> cluster;
    private final RecentHops hops;
    private final IntFunction<List<WebsocketEndpoint.SubscriberStats>> subscribers;

    StatsEndpoint(
            String node,
            String mode,
            Supplier<String> url,
            Clock clock,
            MeterRegistry registry,
            EventQueue queue,
            BooleanSupplier receiverAlive,
            Supplier<Map<String, Object>> clusterOrNull,
            RecentHops hops,
            IntFunction<List<WebsocketEndpoint.SubscriberStats>> subscribers) {
        this.node = node;
        this.mode = mode;
        this.url = url;
        this.clock = clock;
        this.started = clock.instant();
        this.registry = registry;
        this.queue = queue;
        this.receiverAlive = receiverAlive;
        this.cluster = clusterOrNull;
        this.hops = hops;
        this.subscribers = subscribers;
    }

    void register(RoutesConfig routes) {
        routes.get(PATH, this::handle, Access.ADMIN);
    }

    private void handle(Context ctx) throws Exception {
        ctx.contentType("application/json").result(Json.MAPPER.writeValueAsString(snapshot(true)));
    }

    /** @param withCluster include the cluster-wide Redis figures (a few Redis round trips) */
    Map<String, Object> snapshot(boolean withCluster) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("node", node);
        s.put("mode", mode);
        s.put("url", url.get());
        s.put("started", started.toString());
        s.put("uptime_seconds", Duration.between(started, clock.instant()).toSeconds());
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("depth", queue.depth());
        q.put("capacity", queue.capacity());
        s.put("queue", q);
        Map<String, Object> ingest = new LinkedHashMap<>();
        ingest.put("received", count(Metrics.EVENTS_RECEIVED));
        ingest.put("rejected", count(Metrics.EVENTS_REJECTED));
        ingest.put("eofs_received", count(Metrics.EOFS_RECEIVED));
        ingest.put("requests_by_status", byTag(Metrics.INGEST_REQUESTS, "status"));
        s.put("ingest", ingest);
        Map<String, Object> receiver = new LinkedHashMap<>();
        receiver.put("running", receiverAlive.getAsBoolean());
        receiver.put("stored", count(Metrics.EVENTS_STORED));
        receiver.put("duplicates", count(Metrics.EVENTS_DUPLICATE));
        receiver.put("parked", count(Metrics.EVENTS_PARKED));
        // job ends are not event rows: apart, so that "stored" is what job_event gained
        receiver.put("eofs_stored", count(Metrics.EOFS_STORED));
        receiver.put("eofs_parked", count(Metrics.EOFS_PARKED));
        receiver.put("store_failures", count(Metrics.PERSIST_FAILURES));
        var batches = registry.find(Metrics.PERSIST_BATCH_SIZE).summary();
        receiver.put("batches", batches == null ? 0 : batches.count());
        receiver.put("mean_batch_size", batches == null ? 0 : Math.round(batches.mean() * 10) / 10.0);
        s.put("receiver", receiver);
        Map<String, Object> ws = new LinkedHashMap<>();
        ws.put("groups", gauge(Metrics.HUB_GROUPS));
        ws.put("subscriptions_by_group", byTagGauge(Metrics.HUB_SUBSCRIPTIONS, "group"));
        ws.put("connections", Math.round(gauge(Metrics.WS_SUBSCRIBERS)));
        ws.put("queued_total", Math.round(gauge(Metrics.WS_OUTBOX_DEPTH)));
        List<Map<String, Object>> top = new ArrayList<>();
        for (WebsocketEndpoint.SubscriberStats sub : subscribers.apply(TOP_SUBSCRIBERS)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("user", sub.user());
            m.put("remote", sub.remote());
            m.put("queued", sub.queued());
            m.put("groups", sub.groups());
            m.put("catching_up", sub.catchingUp());
            top.add(m);
        }
        ws.put("most_queued", top);
        s.put("websocket", ws);
        Map<String, Object> lag = new LinkedHashMap<>();
        hops.recent().forEach((hop, h) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("events", h.events());
            m.put("per_second", round(h.perSecond()));
            m.put("mean_ms", round(h.meanMillis()));
            m.put("p50_ms_at_most", bound(h.p50Millis()));
            m.put("p99_ms_at_most", bound(h.p99Millis()));
            lag.put(hop, m);
        });
        s.put("lag_last_minute", lag);
        if (cluster != null) {
            Map<String, Object> redis = new LinkedHashMap<>();
            redis.put("appended", count(Metrics.REDIS_APPENDED));
            redis.put("claimed", count(Metrics.REDIS_CLAIMED));
            redis.put("dead_lettered", count(Metrics.REDIS_DEAD_LETTERED));
            redis.put("callback_popped", count(Metrics.CALLBACK_POPPED));
            redis.put("callback_recovered", count(Metrics.CALLBACK_RECOVERED));
            redis.put("relay_published", count(Metrics.RELAY_PUBLISHED));
            redis.put("relay_received", count(Metrics.RELAY_RECEIVED));
            redis.put("relay_failures", count(Metrics.RELAY_FAILURES));
            redis.put("errors", count(Metrics.REDIS_ERRORS));
            s.put("redis", redis);
            if (withCluster) s.put("cluster", cluster.get());
        }
        return s;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** A bucket bound; null when over the largest bucket (60 s). */
    private static Double bound(double millis) {
        return Double.isInfinite(millis) ? null : millis;
    }

    private long count(String name) {
        return Math.round(Search.in(registry).name(name).counters().stream()
                .mapToDouble(Counter::count)
                .sum());
    }

    private double gauge(String name) {
        Gauge g = registry.find(name).gauge();
        return g == null ? 0 : g.value();
    }

    private Map<String, Long> byTag(String name, String tag) {
        Map<String, Long> out = new TreeMap<>();
        for (Counter c : Search.in(registry).name(name).counters()) {
            out.merge(String.valueOf(c.getId().getTag(tag)), Math.round(c.count()), Long::sum);
        }
        return out;
    }

    private Map<String, Long> byTagGauge(String name, String tag) {
        Map<String, Long> out = new TreeMap<>();
        for (Gauge g : Search.in(registry).name(name).gauges()) {
            long v = Math.round(g.value());
            if (v > 0) out.merge(String.valueOf(g.getId().getTag(tag)), v, Long::sum);
        }
        return out;
    }
}
