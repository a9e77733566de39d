package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code replay JOB_ID [--speed N]}: AWX's {@code replay_job_events}. Reads a stored job's events in counter order
 * (a page at a time, so a million-event job needs no memory to speak of) and sends them again at their recorded
 * pace divided by the speed, minus any lateness already built up, as a new job through the node's ingest endpoint,
 * then its EOF. AWX re-emits over the websocket only; jobstream goes through the whole path (so the replayed job's
 * lag numbers mean what a live job's do) and therefore into a new job: the original's events would only be
 * duplicates. {@code created} is rewritten to the send time for the same reason.
 *
 * <p>The new job's id comes from the node (an ingest token made without a job allocates one, owned by whoever runs
 * the replay), never from a guessable formula: a user who could predict it could otherwise have claimed it first and
 * read what an admin replays. The events are sent with that token, which is deleted at the end. {@code --as-job}
 * writes into an id of the caller's choosing instead, which only trusted writers (admins) may create.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description =
                "Replay a stored job's events at their recorded pace as a new job (like AWX's replay_job_events).")
final class ReplayCommand implements Callable<Integer> {
    private static final int PAGE = 1000;
    private static final Duration ON_TIME = Duration.ofMillis(5);

    @Mixin
    NodeClient node;

    @Parameters(index = "0", paramLabel = "JOB_ID", description = "The stored job to replay.")
    long jobId;

    @Option(
            names = "--speed",
            defaultValue = "1",
            description = "Pace multiplier (2 = twice as fast). Default: ${DEFAULT-VALUE}.")
    double speed;

    @Option(
            names = "--as-job",
            paramLabel = "ID",
            description =
                    "Job id for the replay (default: a fresh one, allocated by the node). Admins only for a new id.")
    Long asJob;

    @Option(
            names = "--max-gap",
            defaultValue = "60s",
            converter = DurationConverter.class,
            paramLabel = "DURATION",
            description = "Longest recorded pause to sit through (after --speed). Default: ${DEFAULT-VALUE}.")
    Duration maxGap;

    @Spec
    CommandSpec spec;

    private long ontime;
    private long late;
    private Duration latenessTotal = Duration.ZERO;
    private IngestSession ingest;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (!(speed > 0)) throw new IllegalArgumentException("--speed must be above 0");
        JsonNode job = node.getJson("/api/v2/jobs/" + jobId + "/");
        ingest = asJob != null
                ? IngestSession.asCaller(node, asJob)
                : IngestSession.open(node, null, "replay of job " + jobId);
        long target = ingest.job();
        out.printf(
                "replaying job %d (%s) as job %d at speed %s: %s%n",
                jobId, job.path("name").asText(""), target, speed, node.resolve("/jobs/" + target));
        out.flush();

        Instant start = Instant.now();
        Instant recordingStart = null;
        Instant previous = null;
        Duration due = Duration.ZERO;
        int lastCounter = 0;
        long sent = 0;
        StringBuilder batch = new StringBuilder();
        while (true) {
            JsonNode page = node.getJson("/api/v2/jobs/" + jobId + "/job_events/?order_by=counter&no_truncate=1&limit="
                    + PAGE + "&counter__gt=" + lastCounter);
            JsonNode results = page.path("results");
            if (results.isEmpty()) break;
            for (JsonNode e : results) {
                Instant created = Timestamps.parse(e.path("created").asText());
                if (recordingStart == null) recordingStart = created;
                if (previous != null && created.isAfter(previous)) {
                    Duration gap = Duration.ofNanos(
                            (long) (Duration.between(previous, created).toNanos() / speed));
                    due = due.plus(gap.compareTo(maxGap) > 0 ? maxGap : gap);
                }
                previous = created;
                Duration wait = Duration.between(Instant.now(), start.plus(due));
                if (wait.compareTo(ON_TIME) > 0) {
                    flush(batch);
                    TimeUnit.NANOSECONDS.sleep(
                            Duration.between(Instant.now(), start.plus(due)).toNanos());
                    ontime++;
                } else if (wait.negated().compareTo(ON_TIME) > 0) {
                    late++;
                    latenessTotal = latenessTotal.plus(wait.negated());
                } else {
                    ontime++;
                }
                batch.append(rewrite(e, target)).append('\n');
                if (batch.length() > 1 << 20) flush(batch);
                lastCounter = e.path("counter").asInt();
                sent++;
            }
        }
        int finalCounter =
                job.path("final_counter").isNumber() ? job.path("final_counter").asInt() : lastCounter;
        batch.append("{\"event\":\"EOF\",\"job_id\":")
                .append(target)
                .append(",\"final_counter\":")
                .append(finalCounter)
                .append("}\n");
        flush(batch);
        ingest.close();
        Duration replayed = Duration.between(start, Instant.now());
        Duration recorded = recordingStart == null ? Duration.ZERO : Duration.between(recordingStart, previous);
        ObjectNode stats = Json.MAPPER.createObjectNode();
        stats.put("events_total", sent);
        stats.putObject("events_ontime").put("total", ontime).put("percentage", pct(ontime, sent));
        stats.putObject("events_late")
                .put("total", late)
                .put("percentage", pct(late, sent))
                .put("lateness_total", seconds(latenessTotal))
                .put("lateness_average", late == 0 ? 0 : seconds(latenessTotal) / late);
        stats.put("recording_duration", seconds(recorded));
        stats.put("replay_duration", seconds(replayed));
        stats.put("replay_job_id", target);
        out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(stats));
        out.flush();
        return 0;
    }

    private static double pct(long part, long whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    /** The stored event as the new job's ingest line, created now; the fields ingest takes, as the REST API shows them. */
    static String rewrite(JsonNode stored, long jobId) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("job_id", jobId);
        for (String f : new String[] {
            "event", "counter", "uuid", "parent_uuid", "stdout", "start_line", "end_line", "verbosity", "host_name"
        }) {
            if (stored.hasNonNull(f)) e.set(f, stored.get(f));
        }
        e.set("event_data", stored.path("event_data"));
        e.put("created", Timestamps.format(Instant.now()));
        return e.toString();
    }

    private void flush(StringBuilder batch) throws IOException, InterruptedException {
        if (batch.length() == 0) return;
        ingest.send(batch);
        batch.setLength(0);
    }
}
