package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import io.jobstream.redis.RedisNodes;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code doctor}: where a node's lag comes from (SPEC §13), read from its {@code /api/v2/diagnosis/} ({@code --url}),
 * or for every node of a cluster from the diagnosis each publishes with its heartbeat ({@code --redis-url}; those use
 * the node's default 60 s window). One line per finding, most explaining first, or {@code --json}. Exit code: 0
 * healthy, 1 degraded (any node), 3 when the node or Redis cannot be reached or answered something else (2 is
 * picocli's for a bad command line).
 */
@Command(
        name = "doctor",
        mixinStandardHelpOptions = true,
        description = "Say where the lag of one node (--url) or of the whole cluster (--redis-url) comes from: verdict"
                + " healthy or degraded, and findings (stage, hop, evidence, action) ranked by how much of the lag"
                + " each explains. Exit code 0 healthy, 1 degraded, 3 node or Redis unreachable.")
final class DoctorCommand implements Callable<Integer> {
    static final int UNREACHABLE = 3;
    private static final Duration HEARTBEAT_WINDOW = Duration.ofSeconds(60);

    @Mixin
    NodeClient node;

    @Option(
            names = "--redis-url",
            description = "The cluster's Redis (redis://host:port[/db]); diagnoses every node.",
            defaultValue = "${env:JOBSTREAM_REDIS_URL}")
    String redisUrl;

    @Option(
            names = "--window",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            defaultValue = "60s",
            description = "How far back to look (5s to 10m). Default: ${DEFAULT-VALUE}. With --redis-url each node's"
                    + " published 60s window is used.")
    Duration window;

    @Option(names = "--json", description = "Print JSON instead of one line per finding.")
    boolean json;

    @Spec
    CommandSpec spec;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws Exception {
        if (window.compareTo(Duration.ofSeconds(5)) < 0 || window.compareTo(Duration.ofMinutes(10)) > 0)
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--window must be from 5s to 10m, was " + window.toSeconds() + "s");
        boolean cluster = redisUrl != null && !redisUrl.isBlank();
        JsonNode data;
        try {
            data = cluster ? clusterDiagnosis() : node.getJson("/api/v2/diagnosis/?window=" + window.toSeconds() + "s");
        } catch (IOException | RuntimeException e) {
            String where = cluster ? "Redis at " + redisUrl : "the node at " + node.url;
            String why = e instanceof java.net.ConnectException || e.getMessage() == null
                    ? e.getClass().getSimpleName()
                    : e.getMessage();
            err.println("jobstream doctor: cannot get a diagnosis from " + where + ": " + why);
            return UNREACHABLE;
        }
        if (json) out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(data));
        else if (cluster) printCluster(data);
        else printNode(data);
        return "healthy".equals(data.path("verdict").asText()) ? 0 : 1;
    }

    /** Each live node's published diagnosis; degraded when any node is, or when a node published none. */
    private JsonNode clusterDiagnosis() {
        if (!window.equals(HEARTBEAT_WINDOW))
            err.println("jobstream doctor: with --redis-url each node's published 60s window is used, not --window");
        JsonNode all = Json.MAPPER.valueToTree(RedisNodes.cluster(redisUrl));
        ObjectNode out = Json.MAPPER.createObjectNode();
        ObjectNode nodes = out.putObject("nodes");
        boolean healthy = true;
        for (Iterator<Map.Entry<String, JsonNode>> it = all.path("nodes").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode d = e.getValue().path("diagnosis");
            if (d.isMissingNode()) {
                ObjectNode none = Json.MAPPER.createObjectNode();
                none.put("verdict", "unknown");
                none.put("reason", "this node publishes no diagnosis (an older version)");
                d = none;
            }
            healthy &= "healthy".equals(d.path("verdict").asText());
            nodes.set(e.getKey(), d);
        }
        if (nodes.isEmpty()) throw new IllegalStateException("no live node has a heartbeat in this Redis");
        out.put("verdict", healthy ? "healthy" : "degraded");
        return out;
    }

    private void printCluster(JsonNode data) {
        out.printf(
                "cluster: %s (%d nodes)%n",
                data.path("verdict").asText(), data.path("nodes").size());
        for (Iterator<Map.Entry<String, JsonNode>> it = data.path("nodes").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            printDiagnosis(e.getKey(), e.getValue());
        }
    }

    private void printNode(JsonNode data) {
        printDiagnosis(data.path("node").asText("node"), data);
    }

    private void printDiagnosis(String name, JsonNode d) {
        JsonNode w = d.path("window");
        out.printf(
                "%s: %s over the last %ds (%d samples, end to end %s on average)%n",
                name,
                d.path("verdict").asText(),
                w.path("seconds").asLong(),
                w.path("samples").asInt(),
                millis(w.path("end_to_end_mean_ms").asDouble()));
        if (d.has("reason")) out.printf("  %s%n", d.path("reason").asText());
        for (JsonNode f : d.path("findings")) {
            out.printf(
                    "  %-10s %3d%%  %s — %s%n",
                    f.path("stage").asText(),
                    Math.round(f.path("explains").asDouble() * 100),
                    f.path("summary").asText(),
                    f.path("action").asText());
            for (JsonNode s : f.path("symptoms")) out.printf("  %-10s       symptom: %s%n", "", s.asText());
        }
    }

    private static String millis(double ms) {
        return ms >= 1000 ? String.format("%.1f s", ms / 1000) : Math.round(ms) + " ms";
    }
}
