package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code storage}: what the node's database holds ({@code GET /api/v2/storage/}), as text or {@code --json}. */
@Command(
        name = "storage",
        mixinStandardHelpOptions = true,
        description = "Show rows and bytes in total and per table (partitions listed), the largest jobs and playbooks"
                + " and the oldest stored event.")
final class StorageCommand implements Callable<Integer> {
    @Mixin
    NodeClient node;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Option(names = "--partitions", description = "List every partition of job_event, not only the count.")
    boolean partitions;

    PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        JsonNode r = node.getJson("/api/v2/storage/");
        if (json) {
            out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(r));
            return 0;
        }
        out.printf(
                "database %s; tables hold %d rows in %s%n",
                Bytes.human(r.path("database_bytes").asLong()),
                r.path("total_rows").asLong(),
                Bytes.human(r.path("total_bytes").asLong()));
        out.printf(
                "oldest event: %s%n",
                r.path("oldest_event").isNull()
                        ? "none stored"
                        : r.path("oldest_event").asText() + " (job "
                                + r.path("oldest_event_job").asLong() + ")");
        out.printf("%ntables%n  %-28s %14s %12s%n", "name", "rows", "bytes");
        for (JsonNode t : r.path("tables")) {
            String name = t.path("name").asText();
            if (t.has("partitions")) name += " (" + t.path("partitions").size() + " partitions)";
            out.printf(
                    "  %-28s %14d %12s%n",
                    name, t.path("rows").asLong(), Bytes.human(t.path("bytes").asLong()));
            if (partitions) {
                for (JsonNode p : t.path("partitions")) {
                    out.printf(
                            "    %-26s %14d %12s%n",
                            p.path("name").asText(),
                            p.path("rows").asLong(),
                            Bytes.human(p.path("bytes").asLong()));
                }
            }
        }
        out.printf("%nlargest jobs%n  %-8s %-30s %-12s %10s %12s%n", "id", "playbook", "status", "events", "bytes");
        for (JsonNode j : r.path("largest_jobs")) {
            out.printf(
                    "  %-8d %-30s %-12s %10d %12s%n",
                    j.path("id").asLong(),
                    cut(j.path("playbook").asText()),
                    j.path("status").asText(),
                    j.path("events").asLong(),
                    Bytes.human(j.path("bytes").asLong()));
        }
        out.printf("%nlargest playbooks%n  %-30s %8s %10s %12s%n", "playbook", "jobs", "events", "bytes");
        for (JsonNode p : r.path("largest_playbooks")) {
            out.printf(
                    "  %-30s %8d %10d %12s%n",
                    cut(
                            p.path("playbook").asText().isEmpty()
                                    ? "(none)"
                                    : p.path("playbook").asText()),
                    p.path("jobs").asLong(),
                    p.path("events").asLong(),
                    Bytes.human(p.path("bytes").asLong()));
        }
        return 0;
    }

    private static String cut(String s) {
        return s.length() <= 30 ? s : s.substring(0, 29) + "…";
    }
}
