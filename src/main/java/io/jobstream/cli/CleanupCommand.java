package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cleanup}: applies retention now, on the node ({@code POST /api/v2/storage/cleanup/}), and prints what it
 * deletes as the node reports it. The node holds the cleanup lock, so this never runs beside the schedule or another
 * node's cleanup (it says so and exits 3 instead).
 */
@Command(
        name = "cleanup",
        mixinStandardHelpOptions = true,
        description = "Delete now the events (--events-older-than) or whole jobs (--jobs-older-than) of jobs that"
                + " finished longer ago; jobs not finished are never touched. Prints what it deletes.")
final class CleanupCommand implements Callable<Integer> {
    @Mixin
    NodeClient node;

    @Option(
            names = "--events-older-than",
            paramLabel = "D",
            converter = RetentionConverter.class,
            description = "Delete the events and stdout of jobs finished more than D ago (30d, 12h, …); the jobs"
                    + " stay, with their counts and events_expired.")
    Duration eventsOlderThan = Duration.ZERO;

    @Option(
            names = "--jobs-older-than",
            paramLabel = "D",
            converter = RetentionConverter.class,
            description = "Delete whole jobs (row and events) finished more than D ago.")
    Duration jobsOlderThan = Duration.ZERO;

    @Option(names = "--dry-run", description = "Say what would be deleted; delete nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the result as JSON (progress goes to stderr).")
    boolean json;

    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws Exception {
        if (eventsOlderThan.isZero() && jobsOlderThan.isZero()) {
            err.println("jobstream cleanup: give --events-older-than or --jobs-older-than (or both)");
            return 2;
        }
        ObjectNode body = Json.MAPPER.createObjectNode();
        if (!eventsOlderThan.isZero()) body.put("events_older_than", eventsOlderThan.toSeconds() + "s");
        if (!jobsOlderThan.isZero()) body.put("jobs_older_than", jobsOlderThan.toSeconds() + "s");
        body.put("dry_run", dryRun);
        HttpResponse<Stream<String>> r = node.http()
                .send(
                        node.request("/api/v2/storage/cleanup/")
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() == 409) {
            err.println("jobstream cleanup: another cleanup is running (scheduled, or on another node); try later");
            r.body().close();
            return 3;
        }
        if (r.statusCode() != 200) {
            String text = String.join("\n", r.body().toList());
            throw new IOException(
                    "POST " + node.resolve("/api/v2/storage/cleanup/") + " answered " + r.statusCode() + ": " + text);
        }
        JsonNode result = null;
        try (Stream<String> lines = r.body()) {
            for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                String line = it.next();
                if (line.isBlank()) continue;
                JsonNode n = Json.MAPPER.readTree(line);
                if (n.has("progress"))
                    (json ? err : out).println("  " + n.get("progress").asText());
                else if (n.has("result")) result = n.get("result");
            }
        }
        if (result == null) throw new IOException("the node ended the cleanup without a result (see its log)");
        if (json) out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(result));
        else print(result);
        return 0;
    }

    private void print(JsonNode r) {
        boolean dry = r.path("dry_run").asBoolean();
        out.printf(
                "%s%n",
                dry
                        ? "dry run: nothing was deleted; a cleanup would delete"
                        : "deleted in " + r.path("seconds").asDouble() + " s");
        if (!r.path("events_cutoff").isNull())
            out.printf(
                    "  events of jobs finished before %s%n",
                    r.path("events_cutoff").asText());
        if (!r.path("jobs_cutoff").isNull())
            out.printf(
                    "  whole jobs finished before      %s%n",
                    r.path("jobs_cutoff").asText());
        out.printf(
                "  jobs deleted                   %d%n", r.path("jobs_deleted").asLong());
        out.printf(
                "  jobs whose events expired      %d%n",
                r.path("jobs_events_expired").asLong());
        out.printf(
                "  events deleted                 %d (%s of stdout and event data)%n",
                r.path("events_deleted").asLong(), Bytes.human(r.path("bytes").asLong()));
        out.printf(
                "  partitions truncated / dropped %d / %d%n",
                r.path("partitions_truncated").size(),
                r.path("partitions_dropped").size());
        out.printf("  delete batches                 %d%n", r.path("batches").asLong());
    }
}
