package io.jobstream.ingest;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * Turns one ansible-runner event (a file of an artifact directory's {@code job_events/}) into a jobstream ingest
 * line, and checks that line exactly as a node's ingest would, so an import that passes here is not rejected or
 * altered by the node later. ansible-runner writes AWX's event shape without {@code job_id}, with a naive UTC
 * {@code created}, and with keys of its own ({@code runner_ident}, {@code pid}); the line carries the target job,
 * the fields ingest reads and a {@code created} with its offset. Stateless apart from the decoder; thread-safe.
 */
public final class RunnerEvents {
    private static final String[] COPIED = {
        "counter", "uuid", "parent_uuid", "event", "stdout", "start_line", "end_line", "verbosity", "host_name"
    };

    private final EventDecoder decoder;

    /** @param decoder configured with the limits of the node the lines go to (event size, JSON depth) */
    public RunnerEvents(EventDecoder decoder) {
        this.decoder = decoder;
    }

    /** One converted event: the ingest line and the event as the node will store it. */
    public record Line(String json, JobEvent event) {}

    /**
     * Converts the bytes of one runner event file for job {@code jobId}.
     *
     * @param name how errors name the input (the file's name in the artifact)
     * @throws IllegalArgumentException with a message naming {@code name} when the input is not a runner event, or
     *                                  when the node would reject or repair it
     */
    public Line convert(String name, byte[] bytes, long jobId) {
        JsonNode runner;
        try {
            runner = Json.MAPPER.readTree(bytes);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(name + ": not JSON (" + firstLine(e.getOriginalMessage()) + ")");
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(name + ": unreadable (" + e.getMessage() + ")");
        }
        if (runner == null || !runner.isObject()) throw new IllegalArgumentException(name + ": not a JSON object");
        if (!runner.path("counter").isIntegralNumber())
            throw new IllegalArgumentException(name + ": no integer counter");
        if (!runner.path("uuid").isTextual()) throw new IllegalArgumentException(name + ": no uuid");
        if (!runner.path("event").isTextual()) throw new IllegalArgumentException(name + ": no event name");
        String line = toLine(runner, jobId).toString();
        List<Decoded> decoded = decoder.decodeBody(line.getBytes(StandardCharsets.UTF_8));
        if (decoded.size() != 1) throw new IllegalArgumentException(name + ": not one event");
        Decoded d = decoded.get(0);
        if (d instanceof Decoded.Rejected r) throw new IllegalArgumentException(name + ": " + r.reason());
        Decoded.Ok ok = (Decoded.Ok) d;
        if (!ok.repairs().isEmpty()) {
            // a repaired event (NUL bytes removed, …) would no longer reproduce the runner's stdout
            throw new IllegalArgumentException(
                    name + ": would be altered by ingest: " + String.join("; ", ok.repairs()));
        }
        if (!(ok.message() instanceof JobEvent event)) throw new IllegalArgumentException(name + ": not a job event");
        return new Line(line, event);
    }

    /** The ingest shape of a runner event: job_id first, AWX's fields, created with its UTC offset. */
    static ObjectNode toLine(JsonNode runner, long jobId) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("job_id", jobId);
        for (String f : COPIED) {
            if (runner.hasNonNull(f)) e.set(f, runner.get(f));
        }
        JsonNode data = runner.get("event_data");
        if (data != null && !data.isNull()) e.set("event_data", data);
        // AWX derives host_name from event_data.host; the runner leaves it there only
        if (!e.has("host_name") && data != null && data.path("host").isTextual()) e.set("host_name", data.get("host"));
        JsonNode created = runner.get("created");
        if (created != null && created.isTextual()) {
            try {
                e.put("created", Timestamps.format(Timestamps.parse(created.asText())));
            } catch (DateTimeParseException | ArithmeticException bad) {
                e.set("created", created); // ingest's check names the bad value
            }
        } else if (created != null && !created.isNull()) {
            e.set("created", created);
        }
        return e;
    }

    private static String firstLine(String s) {
        if (s == null) return "syntax error";
        int nl = s.indexOf('\n');
        String first = nl < 0 ? s : s.substring(0, nl);
        return first.length() > 120 ? first.substring(0, 120) + "..." : first;
    }
}
