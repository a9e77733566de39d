package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.redis.RedisNodes;
import java.io.PrintStream;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stats}: the live state of one node ({@code --url}, its {@code /api/v2/stats/}) or of the whole cluster
 * ({@code --redis-url}: every node's heartbeat plus the shared stream and lists), as text or {@code --json}. What
 * AWX's debugging guide has operators do by hand with {@code redis-cli} and {@code run_callback_receiver --status}.
 */
@Command(
        name = "stats",
        mixinStandardHelpOptions = true,
        description = "Show queue depths, pending and claimed events, relay traffic, subscribers and receiver stats"
                + " of one node (--url) or of the whole cluster (--redis-url).")
final class StatsCommand implements Callable<Integer> {
    @Mixin
    NodeClient node;

    @Option(
            names = "--redis-url",
            description = "The cluster's Redis (redis://host:port[/db]); shows every node.",
            defaultValue = "${env:JOBSTREAM_REDIS_URL}")
    String redisUrl;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        JsonNode data;
        if (redisUrl != null && !redisUrl.isBlank()) {
            data = Json.MAPPER.valueToTree(RedisNodes.cluster(redisUrl));
        } else {
            data = node.getJson("/api/v2/stats/"); // an unreachable node: Main prints one line and exits 1
        }
        if (json) {
            out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(data));
        } else if (data.has("nodes")) {
            printCluster(data);
        } else {
            printNode(data, "");
        }
        return 0;
    }

    private void printCluster(JsonNode data) {
        JsonNode q = data.path("queues");
        out.printf("cluster: %d node(s)%n", data.path("nodes").size());
        out.printf(
                "  callback_tasks (AWX list, waiting)   %d%n",
                q.path("callback_tasks").asLong());
        out.printf(
                "  event stream (uncommitted entries)   %d, holding %d events%n",
                q.path("stream_length").asLong(), q.path("queued_events").asLong());
        out.printf(
                "  pending (read, not yet committed)    %d  %s%n",
                q.path("pending").asLong(), flat(q.path("pending_by_node")));
        out.printf(
                "  dead letters                         %d%n",
                q.path("dead_letters").asLong());
        out.printf(
                "  an ingest 2xx means the events are   %s%n",
                data.path("acknowledgement").path("means").asText("?"));
        for (Iterator<Map.Entry<String, JsonNode>> it = data.path("nodes").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.println();
            printNode(e.getValue(), "");
        }
    }

    private void printNode(JsonNode n, String indent) {
        out.printf(
                "%snode %s (%s) %s, up %ds%n",
                indent,
                n.path("node").asText(),
                n.path("mode").asText(),
                n.path("url").asText(),
                n.path("uptime_seconds").asLong());
        JsonNode r = n.path("receiver");
        out.printf(
                "%s  receiver  %s: stored %d, duplicates %d, parked %d, EOFs %d (parked %d), store failures %d, batches %d"
                        + " (mean %.1f)%n",
                indent,
                r.path("running").asBoolean() ? "running" : "NOT RUNNING",
                r.path("stored").asLong(),
                r.path("duplicates").asLong(),
                r.path("parked").asLong(),
                r.path("eofs_stored").asLong(),
                r.path("eofs_parked").asLong(),
                r.path("store_failures").asLong(),
                r.path("batches").asLong(),
                r.path("mean_batch_size").asDouble());
        JsonNode q = n.path("queue");
        out.printf(
                "%s  queue     depth %d of %d%n",
                indent, q.path("depth").asLong(), q.path("capacity").asLong());
        JsonNode i = n.path("ingest");
        out.printf(
                "%s  ingest    received %d, EOFs %d, rejected %d, requests %s%n",
                indent,
                i.path("received").asLong(),
                i.path("eofs_received").asLong(),
                i.path("rejected").asLong(),
                flat(i.path("requests_by_status")));
        JsonNode ws = n.path("websocket");
        out.printf(
                "%s  websocket connections %d, queued %d, groups %d, subscriptions %s%n",
                indent,
                ws.path("connections").asLong(),
                ws.path("queued_total").asLong(),
                ws.path("groups").asLong(),
                flat(ws.path("subscriptions_by_group")));
        for (JsonNode sub : ws.path("most_queued")) {
            if (sub.path("queued").asLong() == 0 && sub.path("catching_up").isEmpty()) continue; // nobody is behind
            out.printf(
                    "%s    subscriber user %d %s: queued %d, groups %s%s%n",
                    indent,
                    sub.path("user").asLong(),
                    sub.path("remote").asText(),
                    sub.path("queued").asLong(),
                    sub.path("groups"),
                    sub.path("catching_up").isEmpty()
                            ? ""
                            : ", catching up from the store on jobs " + sub.path("catching_up"));
        }
        JsonNode lag = n.path("lag_last_minute");
        if (!lag.isEmpty()) {
            out.printf(
                    "%s  %-22s %8s %8s %9s %8s %8s%n",
                    indent, "lag, last minute", "events", "per s", "mean ms", "p50 ≤", "p99 ≤");
            for (Iterator<Map.Entry<String, JsonNode>> it = lag.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode h = e.getValue();
                out.printf(
                        "%s    %-20s %8d %8.1f %9.1f %8s %8s%n",
                        indent,
                        e.getKey(),
                        h.path("events").asLong(),
                        h.path("per_second").asDouble(),
                        h.path("mean_ms").asDouble(),
                        bound(h.path("p50_ms_at_most")),
                        bound(h.path("p99_ms_at_most")));
            }
        }
        if (n.has("redis")) {
            JsonNode x = n.path("redis");
            out.printf(
                    "%s  redis     appended %d, claimed %d, dead-lettered %d, callback popped %d, recovered %d, errors %d%n",
                    indent,
                    x.path("appended").asLong(),
                    x.path("claimed").asLong(),
                    x.path("dead_lettered").asLong(),
                    x.path("callback_popped").asLong(),
                    x.path("callback_recovered").asLong(),
                    x.path("errors").asLong());
            out.printf(
                    "%s  relay     published %d, received %d, failures %d%n",
                    indent,
                    x.path("relay_published").asLong(),
                    x.path("relay_received").asLong(),
                    x.path("relay_failures").asLong());
        }
        if (n.has("cluster")) {
            JsonNode c = n.path("cluster");
            out.printf(
                    "%s  cluster   stream %d, pending %d %s, callback_tasks %d, dead letters %d%n",
                    indent,
                    c.path("stream_length").asLong(),
                    c.path("pending").asLong(),
                    flat(c.path("pending_by_node")),
                    c.path("callback_tasks").asLong(),
                    c.path("dead_letters").asLong());
            out.printf(
                    "%s  2xx means events are %s%n",
                    indent, c.path("acknowledgement").path("means").asText("?"));
        }
    }

    private static String bound(JsonNode millis) {
        return millis.isNull()
                ? "> 60 s"
                : (millis.asLong() >= 1000 ? millis.asLong() / 1000 + " s" : millis.asLong() + " ms");
    }

    private static String flat(JsonNode object) {
        if (object == null || object.isEmpty()) return "{}";
        StringBuilder sb = new StringBuilder("{");
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            sb.append(e.getKey()).append('=').append(e.getValue().asText());
            if (it.hasNext()) sb.append(", ");
        }
        return sb.append('}').toString();
    }
}
