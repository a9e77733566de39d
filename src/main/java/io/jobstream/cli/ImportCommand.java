package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.Json;
import io.jobstream.ingest.RunnerArtifact;
import io.jobstream.ingest.RunnerEvents;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code import ARTIFACT_DIR [--job N]}: loads an ansible-runner artifact directory as a job, through the node's
 * ingest endpoint like {@code replay} (so the events take the whole path and are shown live to anyone watching).
 *
 * <p>The whole artifact is read and checked first ({@link RunnerArtifact}: names, sizes, links, counters, the events
 * against the runner's {@code stdout}); only then is the node asked for a job. Importing twice stores nothing
 * twice: ingest is idempotent on (job, counter), and the second import goes to the same job, named by
 * {@code --job N} or remembered in the directory ({@link ImportMarker}). Before sending, the job's stored events
 * are compared with the artifact's: a job that holds another run is refused. A failure while sending says which
 * events are stored and how to finish (the same command again).
 */
@Command(
        name = "import",
        mixinStandardHelpOptions = true,
        description = "Load an ansible-runner artifact directory (job_events/, stdout) as a job.")
final class ImportCommand implements Callable<Integer> {
    private static final int BATCH_BYTES = 1 << 20;
    private static final int PAGE = 1000;

    @Mixin
    NodeClient node;

    @Parameters(
            index = "0",
            paramLabel = "ARTIFACT_DIR",
            description = "The runner's artifacts/<ident>/ directory (job_events/, stdout, status, rc).")
    Path dir;

    @Option(
            names = "--job",
            paramLabel = "N",
            description =
                    "Import into existing job N (empty, or holding this same run). Default: the job this directory"
                            + " was imported as before on this node, else a fresh job.")
    Long job;

    @Option(
            names = "--max-event-size",
            paramLabel = "BYTES",
            defaultValue = "2097152",
            description = "Largest event accepted, as the node's ingest.max-event-size. Default: ${DEFAULT-VALUE}.")
    long maxEventBytes;

    @Option(
            names = "--max-events",
            paramLabel = "N",
            defaultValue = "1000000",
            description = "Most events an artifact may hold. Default: ${DEFAULT-VALUE}.")
    int maxEvents;

    @Option(
            names = "--max-stdout-size",
            paramLabel = "BYTES",
            defaultValue = "17179869184",
            description = "Largest stdout file accepted. Default: ${DEFAULT-VALUE} (16 GiB).")
    long maxStdoutBytes;

    @Spec
    CommandSpec spec;

    private long accepted;
    private long duplicates;
    private int lastSent;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        RunnerArtifact artifact;
        RunnerEvents converter;
        try {
            artifact = RunnerArtifact.open(dir, new RunnerArtifact.Limits(maxEventBytes, maxEvents, maxStdoutBytes));
            converter = new RunnerEvents(
                    new EventDecoder((int) Math.min(Integer.MAX_VALUE, maxEventBytes), Clock.systemUTC()));
            artifact.read(converter, 1, line -> {}); // everything is checked before the node is asked for anything
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir + ": " + printable(e.getMessage()) + "; nothing imported");
        }
        int events = artifact.events().size();
        ImportMarker marker = new ImportMarker(artifact.dir());
        String nodeUrl = node.resolve("/").toString();
        Long target = job != null
                ? job
                : previousImport(marker, nodeUrl, artifact.events().get(0).uuid());
        if (job == null) marker.checkWritable();
        try (IngestSession ingest = IngestSession.open(node, target, "import of ansible-runner " + artifact.ident())) {
            long id = ingest.job();
            if (job == null) marker.record(nodeUrl, id); // before any send: an interrupted import is found again
            int stored = storedOfThisRun(id, artifact.events());
            out.printf(
                    "importing %s (%d events%s%s) as job %d%s: %s%n",
                    artifact.dir(),
                    events,
                    artifact.status().map(s -> ", runner status " + s).orElse(""),
                    artifact.hasStdout() ? "" : ", no stdout file to compare the output with",
                    id,
                    stored > 0 ? " (" + stored + " already stored)" : "",
                    node.resolve("/jobs/" + id));
            out.flush();
            send(artifact, converter, ingest, id, events);
        }
        out.printf(
                "imported %d events: %d new, %d already stored%s%n",
                events,
                accepted,
                duplicates,
                artifact.rc().map(rc -> "; runner rc " + rc).orElse(""));
        out.flush();
        return 0;
    }

    private void send(RunnerArtifact artifact, RunnerEvents converter, IngestSession ingest, long id, int events)
            throws IOException, InterruptedException {
        StringBuilder batch = new StringBuilder();
        int[] last = new int[1];
        try {
            artifact.read(converter, id, line -> {
                batch.append(line.json()).append('\n');
                last[0] = line.event().counter();
                if (batch.length() >= BATCH_BYTES) flush(ingest, batch, last[0]);
            });
            flush(ingest, batch, events);
            // the EOF on its own, so that the counts above are the events' only
            ingest.send("{\"event\":\"EOF\",\"job_id\":" + id + ",\"final_counter\":" + events + "}\n");
        } catch (IOException | IllegalArgumentException e) {
            // a batch the node refused in part has its other lines stored: say what is known, never less than is true
            String stored = lastSent == 0
                    ? "events of the first batch may be stored"
                    : "events 1.." + lastSent + " are stored, and maybe some of the next batch";
            throw new IOException(
                    "import into job " + id + " stopped: " + printable(e.getMessage()) + "; " + stored
                            + "; once the cause is fixed, run the same command with --job " + id
                            + " to finish (nothing is stored twice)",
                    e);
        }
    }

    /** A reason may quote the artifact's bytes: no terminal escapes reach the user's terminal. */
    private static String printable(String message) {
        return message == null ? "" : message.replaceAll("\\p{Cntrl}", "?");
    }

    private void flush(IngestSession ingest, StringBuilder batch, int through)
            throws IOException, InterruptedException {
        if (batch.length() == 0) return;
        JsonNode reply = ingest.send(batch);
        JsonNode rejected = reply.path("rejected");
        if (rejected.isArray() && !rejected.isEmpty()) {
            throw new IOException(
                    "the node rejected line " + rejected.get(0).path("line").asInt() + " of a batch: "
                            + rejected.get(0).path("reason").asText());
        }
        accepted += reply.path("accepted").asLong();
        duplicates += reply.path("duplicates").asLong();
        lastSent = through;
        batch.setLength(0);
    }

    /**
     * The job this directory was imported as on this node, from the marker: a recorded job that holds the run's first
     * event (uuids are random, so that is conclusive), or one recorded under this very URL that holds no event yet (an
     * import stopped before its first batch). Null: none, import as a fresh job.
     */
    private Long previousImport(ImportMarker marker, String nodeUrl, String firstUuid)
            throws IOException, InterruptedException {
        for (ImportMarker.Entry e : marker.entries(nodeUrl)) {
            HttpResponse<String> r = node.http()
                    .send(
                            node.request("/api/v2/jobs/" + e.job() + "/job_events/?counter=1")
                                    .timeout(Duration.ofSeconds(30))
                                    .header("Accept", "application/json")
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) continue; // gone, or not this user's: not a job to write into
            JsonNode results = Json.MAPPER.readTree(r.body()).path("results");
            if (results.isEmpty()
                    ? e.url().equals(nodeUrl)
                    : results.get(0).path("uuid").asText().equals(firstUuid)) {
                return e.job();
            }
        }
        return null;
    }

    /** How many of the artifact's events job {@code id} already holds; refuses a job that holds anything else. */
    private int storedOfThisRun(long id, List<RunnerArtifact.EventFile> files)
            throws IOException, InterruptedException {
        int stored = 0;
        int after = 0;
        while (true) {
            JsonNode results = node.getJson("/api/v2/jobs/" + id + "/job_events/?order_by=counter&limit=" + PAGE
                            + "&counter__gt=" + after)
                    .path("results");
            if (results.isEmpty()) return stored;
            for (JsonNode e : results) {
                int counter = e.path("counter").asInt();
                String uuid = e.path("uuid").asText();
                if (counter > files.size() || !files.get(counter - 1).uuid().equals(uuid)) {
                    throw new IllegalArgumentException("job " + id + " holds other events than " + dir + " (counter "
                            + counter + " is event " + uuid + "): not this run; nothing imported");
                }
                stored++;
                after = counter;
            }
        }
    }
}
