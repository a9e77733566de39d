package io.jobstream.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire format between nodes: decoded messages in the event stream, committed batches on the broadcast channel.
 * A message travels already validated (decoded once, by the node that took it in), so that its {@code received}
 * hop time and repairs survive the trip and no node decodes an event twice. Instants are epoch microseconds.
 * Internal to jobstream: both ends run the same version (a rolling upgrade that changes it must drain the stream).
 */
final class ClusterCodec {
    private ClusterCodec() {}

    /** A message for the event stream, in the compact form ({@link CompactMessage}). */
    static String encode(JobMessage message) {
        return CompactMessage.encode(message);
    }

    /**
     * A stream entry's messages, in order: a batch entry's, or the one message of an entry that a node of an older
     * version appended (compact or JSON).
     */
    static List<JobMessage> decodeEntry(String entry) {
        if (CompactMessage.isBatchEntry(entry)) return CompactMessage.decodeBatchEntry(entry);
        return List.of(decodeMessage(entry));
    }

    /** A stream entry's message: the compact form, or JSON (entries appended by a node from before it). */
    static JobMessage decodeMessage(String entry) {
        if (CompactMessage.isCompact(entry)) return CompactMessage.decode(entry);
        return message(read(entry));
    }

    /** The JSON form of a message, as nodes before the compact form appended it (and as the relay still carries). */
    static String encodeJson(JobMessage message) {
        return write(node(message));
    }

    /** A committed batch for the relay, in the compact form ({@link CompactMessage}). */
    static String encode(String origin, CommittedBatch batch) {
        return CompactMessage.encode(origin, batch);
    }

    /** The JSON form of a relayed batch, as nodes before the compact form published it (read by {@link #batch}). */
    static String encodeJson(String origin, CommittedBatch batch) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("origin", origin);
        root.put("committed", Timestamps.micros(batch.committed()));
        ArrayNode events = root.putArray("events");
        for (StoredEvent s : batch.events()) {
            ObjectNode e = events.addObject();
            e.put("id", s.id());
            e.put("modified", Timestamps.micros(s.modified()));
            e.set("event", node(s.event()));
        }
        ArrayNode changes = root.putArray("changes");
        for (JobChange c : batch.jobChanges()) {
            ObjectNode n = changes.addObject();
            n.put("job", c.jobId());
            if (c.status() != null) n.put("status", c.status());
            if (c.finalCounter() != null) n.put("final_counter", c.finalCounter());
            n.put("finished", c.eventsFinished());
        }
        return write(root);
    }

    /** A status change that did not come from a batch (launch, cancel); {@code finishedMicros} may be null. */
    static String encodeStatus(String origin, long jobId, String status, Long finishedMicros) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("origin", origin);
        ObjectNode s = root.putObject("status");
        s.put("job", jobId);
        s.put("status", status);
        if (finishedMicros != null) s.put("finished", finishedMicros);
        return write(root);
    }

    static JsonNode read(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a jobstream cluster message: " + e.getOriginalMessage(), e);
        }
    }

    static CommittedBatch batch(JsonNode root) {
        List<StoredEvent> events = new ArrayList<>();
        for (JsonNode e : root.path("events")) {
            events.add(new StoredEvent(
                    e.path("id").asLong(),
                    (JobEvent) message(e.path("event")),
                    Timestamps.ofMicros(e.path("modified").asLong())));
        }
        List<JobChange> changes = new ArrayList<>();
        for (JsonNode c : root.path("changes")) {
            changes.add(new JobChange(
                    c.path("job").asLong(),
                    c.hasNonNull("status") ? c.get("status").asText() : null,
                    c.hasNonNull("final_counter") ? c.get("final_counter").asInt() : null,
                    c.path("finished").asBoolean()));
        }
        return root.has("committed")
                ? new CommittedBatch(
                        events,
                        changes,
                        Timestamps.ofMicros(root.get("committed").asLong()))
                : new CommittedBatch(events, changes);
    }

    private static ObjectNode node(JobMessage message) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        if (message instanceof JobEof eof) {
            n.put("eof", true);
            n.put("job", eof.jobId());
            n.put("final_counter", eof.finalCounter());
            return n;
        }
        JobEvent e = (JobEvent) message;
        n.put("job", e.jobId());
        n.put("counter", e.counter());
        n.put("uuid", e.uuid());
        n.put("parent_uuid", e.parentUuid());
        n.put("event", e.event());
        n.put("event_data", e.eventData());
        n.put("stdout", e.stdout());
        n.put("start_line", e.startLine());
        n.put("end_line", e.endLine());
        n.put("verbosity", e.verbosity());
        n.put("host_name", e.hostName());
        n.put("playbook", e.playbook());
        n.put("play", e.play());
        n.put("role", e.role());
        n.put("task", e.task());
        n.put("failed", e.failed());
        n.put("changed", e.changed());
        n.put("created", Timestamps.micros(e.created()));
        n.put("created_filled", e.createdFilled());
        n.put("received", Timestamps.micros(e.received()));
        return n;
    }

    private static JobMessage message(JsonNode n) {
        if (n.path("eof").asBoolean())
            return new JobEof(n.path("job").asLong(), n.path("final_counter").asInt());
        return new JobEvent(
                n.path("job").asLong(),
                n.path("counter").asInt(),
                text(n, "uuid"),
                text(n, "parent_uuid"),
                text(n, "event"),
                text(n, "event_data"),
                text(n, "stdout"),
                n.path("start_line").asInt(),
                n.path("end_line").asInt(),
                n.path("verbosity").asInt(),
                text(n, "host_name"),
                text(n, "playbook"),
                text(n, "play"),
                text(n, "role"),
                text(n, "task"),
                n.path("failed").asBoolean(),
                n.path("changed").asBoolean(),
                Timestamps.ofMicros(n.path("created").asLong()),
                n.path("created_filled").asBoolean(),
                Timestamps.ofMicros(n.path("received").asLong()));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("cluster message lacks " + field);
        return v.asText();
    }

    private static String write(JsonNode node) {
        try {
            return Json.MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
