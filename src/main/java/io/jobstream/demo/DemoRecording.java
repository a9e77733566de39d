package io.jobstream.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The recorded real ansible-runner runs shipped in the jar ({@code demo/ansible-runner-events.jsonl.gz}): each
 * line one event, its run named by {@code _fixture_run}, {@code created} naive UTC, no {@code job_id}.
 */
final class DemoRecording {
    static final String RESOURCE = "demo/ansible-runner-events.jsonl.gz";

    /** One recorded event: its counter and original time, and its JSON without the fixture's run field. */
    record RecordedEvent(int counter, Instant created, ObjectNode json) {}

    /** One run, its events in counter order. */
    record Run(String name, List<RecordedEvent> events) {
        Run {
            events = List.copyOf(events);
        }
    }

    private DemoRecording() {}

    /** Reads the shipped recording; its absence or corruption is a packaging bug, hence unchecked. */
    static List<Run> load() {
        try (InputStream raw = DemoRecording.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (raw == null) throw new IllegalStateException("demo recording missing from the jar: " + RESOURCE);
            return read(new GZIPInputStream(raw));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    /** Groups JSON lines by {@code _fixture_run}, keeping the runs in order of first appearance. */
    static List<Run> read(InputStream jsonLines) throws IOException {
        Map<String, List<RecordedEvent>> runs = new LinkedHashMap<>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(jsonLines, StandardCharsets.UTF_8));
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            if (line.isBlank()) continue;
            JsonNode node = Json.MAPPER.readTree(line);
            if (!(node instanceof ObjectNode)) throw new IOException("demo recording: not a JSON object: " + line);
            ObjectNode event = (ObjectNode) node;
            String run = event.path("_fixture_run").asText("run");
            event.remove("_fixture_run");
            RecordedEvent recorded = new RecordedEvent(
                    event.path("counter").asInt(),
                    Timestamps.parse(event.path("created").asText()),
                    event);
            runs.computeIfAbsent(run, k -> new ArrayList<>()).add(recorded);
        }
        List<Run> out = new ArrayList<>();
        runs.forEach((name, events) -> {
            events.sort(Comparator.comparingInt(RecordedEvent::counter));
            out.add(new Run(name, events));
        });
        return out;
    }
}
