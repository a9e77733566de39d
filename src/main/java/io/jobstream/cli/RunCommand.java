package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code run PLAYBOOK}: launches a job on a running node through {@code POST /api/v2/jobs/} and prints its output as
 * it arrives, until the job ends. It follows by polling {@code job_events/?counter__gt=N} (every 250 ms while the
 * job runs) and prints each event's stdout in counter order, never past a counter that has not arrived yet, so the
 * terminal shows exactly what ansible-playbook printed. Exit code: 0 successful, 2 failed, 1 error, 3 canceled,
 * 4 when the node refused the launch or could not be reached.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Launch a playbook from the node's --playbook-dir and follow its output until it ends.")
final class RunCommand implements Callable<Integer> {
    private static final Set<String> ACTIVE = Set.of("new", "pending", "waiting", "running");

    @Parameters(index = "0", paramLabel = "PLAYBOOK", description = "Playbook, relative to the node's --playbook-dir.")
    String playbook;

    @Option(
            names = {"-i", "--inventory"},
            description = "Inventory, relative to the node's --playbook-dir.")
    String inventory;

    @Option(
            names = {"-e", "--extra-vars"},
            paramLabel = "KEY=VALUE",
            description = "Extra variable (repeatable); a value is read as JSON when it parses, else as a string.")
    List<String> extraVars = new ArrayList<>();

    @Option(
            names = {"-l", "--limit"},
            description = "Host pattern to limit the run to.")
    String limit;

    @Option(names = "-v", description = "More output from ansible-playbook (-v … -vvvvv), as its own -v.")
    boolean[] verbose = new boolean[0];

    @Option(names = "--name", description = "Job name (default: the playbook).")
    String name;

    @Option(
            names = "--url",
            defaultValue = "${env:JOBSTREAM_URL:-http://127.0.0.1:8052/}",
            description = "The node. Default: ${DEFAULT-VALUE} (env JOBSTREAM_URL).")
    URI url;

    @Mixin
    Credentials credentials = new Credentials();

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() throws Exception {
        URI base = url.toString().endsWith("/") ? url : URI.create(url + "/");
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("playbook", playbook);
        if (inventory != null) body.put("inventory", inventory);
        if (limit != null) body.put("limit", limit);
        if (name != null) body.put("name", name);
        if (verbose.length > 0) body.put("verbosity", Math.min(verbose.length, 5));
        ObjectNode vars = body.putObject("extra_vars");
        for (String kv : extraVars) {
            int eq = kv.indexOf('=');
            if (eq < 1) {
                err.println("jobstream run: -e takes KEY=VALUE, got '" + kv + "'");
                return 4;
            }
            vars.set(kv.substring(0, eq), value(kv.substring(eq + 1)));
        }
        HttpResponse<String> launched;
        try {
            launched = http.send(
                    credentials
                            .request(base.resolve("api/v2/jobs/"))
                            .timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            err.println("jobstream run: cannot reach " + base + ": " + e.getMessage());
            return 4;
        }
        if (launched.statusCode() != 201) {
            err.println("jobstream run: the node refused the launch (" + launched.statusCode() + "): "
                    + Json.MAPPER.readTree(launched.body()).path("detail").asText(launched.body()));
            return 4;
        }
        long id = Json.MAPPER.readTree(launched.body()).path("id").asLong();
        err.println("jobstream run: job " + id + " " + base.resolve("jobs/" + id));
        String status = follow(base, id);
        err.println("jobstream run: job " + id + " " + status);
        return switch (status) {
            case "successful" -> 0;
            case "failed" -> 2;
            case "canceled" -> 3;
            default -> 1;
        };
    }

    private static JsonNode value(String raw) {
        try {
            return Json.MAPPER.readTree(raw);
        } catch (IOException e) {
            return Json.MAPPER.getNodeFactory().textNode(raw);
        }
    }

    /** Prints events in counter order until the job has ended and its events are complete; returns the status. */
    private String follow(URI base, long id) throws Exception {
        long printed = 0;
        long endedAt = 0;
        while (true) {
            JsonNode page = get(base.resolve("api/v2/jobs/" + id + "/job_events/?order_by=counter&page_size=200"
                    + "&no_truncate=1&count_disabled=1&counter__gt=" + printed));
            int got = 0;
            for (JsonNode e : page.path("results")) {
                long counter = e.path("counter").asLong();
                if (counter != printed + 1) break; // a hole: wait for the missing event
                String stdout = e.path("stdout").asText();
                if (!stdout.isEmpty()) out.print(stdout.replace("\r\n", "\n") + "\n");
                printed = counter;
                got++;
            }
            out.flush();
            if (got == 200) continue;
            JsonNode job = get(base.resolve("api/v2/jobs/" + id + "/"));
            String status = job.path("status").asText();
            if (!ACTIVE.contains(status)) {
                boolean complete = job.path("event_processing_finished").asBoolean()
                        && printed >= job.path("final_counter").asLong();
                if (complete) return status;
                // ended without all its events (e.g. killed before the plugin sent its EOF): give them a moment
                if (endedAt == 0) endedAt = System.nanoTime();
                if (System.nanoTime() - endedAt > Duration.ofSeconds(10).toNanos()) {
                    err.println("jobstream run: the job ended but not all of its events arrived (printed up to counter "
                            + printed + ")");
                    return status;
                }
            }
            Thread.sleep(250);
        }
    }

    private JsonNode get(URI uri) throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                HttpResponse<String> r = http.send(
                        credentials
                                .request(uri)
                                .timeout(Duration.ofSeconds(30))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return Json.MAPPER.readTree(r.body());
                if (attempt >= 20)
                    throw new IOException("GET " + uri + " answered " + r.statusCode() + ": " + r.body());
            } catch (IOException e) {
                if (attempt >= 20) throw e;
            }
            Thread.sleep(500);
        }
    }
}
