package io.jobstream.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.jobstream.event.EventTypes;
import io.jobstream.event.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Writes jobs and job events in AWX's serializer shapes (reference §7.1, §7.3) with Jackson's streaming
 * generator, so that {@code event_data} is embedded as the stored JSON text instead of being parsed and
 * re-serialised for every row.
 */
final class ApiJson {
    /** Django REST framework's datetime format: UTC, microseconds, {@code Z}. */
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private ApiJson() {}

    static byte[] bytes(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory: cannot happen
        }
        return out.toByteArray();
    }

    static byte[] detail(String detail) {
        return bytes(g -> {
            g.writeStartObject();
            g.writeStringField("detail", detail);
            g.writeEndObject();
        });
    }

    static String time(Instant t) {
        return t == null ? null : TIME.format(t);
    }

    static void writeTime(JsonGenerator g, String name, Instant t) throws IOException {
        if (t == null) g.writeNullField(name);
        else g.writeStringField(name, TIME.format(t));
    }

    static void writeJob(JsonGenerator g, JobView j) throws IOException {
        String url = "/api/v2/jobs/" + j.id() + "/";
        g.writeStartObject();
        g.writeNumberField("id", j.id());
        g.writeStringField("type", "job");
        g.writeStringField("url", url);
        g.writeObjectFieldStart("related");
        g.writeStringField("job_events", url + "job_events/");
        g.writeStringField("stdout", url + "stdout/");
        g.writeStringField("children_summary", url + "job_events/children_summary/");
        g.writeStringField("cancel", url + "cancel/");
        g.writeEndObject();
        // awxkit reads job.summary_fields; AWX's related objects (template, inventory, project...) do not exist here
        g.writeObjectFieldStart("summary_fields");
        g.writeObjectFieldStart("user_capabilities");
        g.writeBooleanField("delete", false);
        g.writeBooleanField("start", false);
        g.writeEndObject();
        g.writeEndObject();
        g.writeStringField("name", j.name());
        g.writeStringField("playbook", j.playbook());
        g.writeStringField("status", j.status());
        g.writeBooleanField("failed", j.failed());
        writeTime(g, "created", j.created());
        writeTime(g, "modified", j.modified());
        writeTime(g, "started", j.started());
        writeTime(g, "finished", j.finished());
        g.writeNumberField("elapsed", j.elapsedSeconds());
        g.writeStringField("job_explanation", j.jobExplanation());
        g.writeStringField("execution_node", j.executionNode());
        g.writeNumberField("emitted_events", j.emittedEvents());
        g.writeBooleanField("event_processing_finished", j.awxEventProcessingFinished());
        g.writeFieldName("host_status_counts");
        if (j.hostStatusCounts() == null) g.writeNull();
        else g.writeRawValue(j.hostStatusCounts());
        g.writeObjectFieldStart("playbook_counts");
        g.writeNumberField("play_count", j.playCount());
        g.writeNumberField("task_count", j.taskCount());
        g.writeEndObject();
        g.writeFieldName("final_counter");
        if (j.finalCounter() == null) g.writeNull();
        else g.writeNumber(j.finalCounter());
        g.writeNumberField("stored_events", j.storedEvents());
        writeTime(g, "last_event_created", j.lastEventCreated());
        g.writeFieldName("last_lag_ms");
        if (j.lastLagMs() == null) g.writeNull();
        else g.writeNumber(j.lastLagMs());
        // SPEC §10: the level its events are kept at, and what that level did not keep
        g.writeStringField("capture", j.capture());
        g.writeObjectFieldStart("capture_dropped");
        g.writeNumberField("events", j.captureDroppedEvents());
        g.writeNumberField("bytes", j.captureDroppedBytes());
        g.writeEndObject();
        // retention deleted its events (and stdout); the counts and host summary above stay (SPEC §10)
        g.writeBooleanField("events_expired", j.eventsExpired());
        g.writeEndObject();
    }

    /** AWX's summary_fields.job, the part of it jobstream has. */
    static void writeJobSummary(JsonGenerator g, JobView j) throws IOException {
        g.writeObjectFieldStart("summary_fields");
        g.writeObjectFieldStart("job");
        g.writeNumberField("id", j.id());
        g.writeStringField("name", j.name());
        g.writeStringField("description", "");
        g.writeStringField("status", j.status());
        g.writeBooleanField("failed", j.failed());
        g.writeNumberField("elapsed", j.elapsedSeconds());
        g.writeStringField("type", "job");
        g.writeEndObject();
        g.writeEndObject();
    }

    /** @param truncate whether this is a list view that cuts long stdout (detail views never do) */
    static void writeEvent(JsonGenerator g, EventRow e, JobView job, boolean truncate) throws IOException {
        String url = "/api/v2/job_events/" + e.id() + "/";
        g.writeStartObject();
        g.writeNumberField("id", e.id());
        g.writeStringField("type", "job_event");
        g.writeStringField("url", url);
        g.writeObjectFieldStart("related");
        g.writeStringField("job", "/api/v2/jobs/" + e.jobId() + "/");
        g.writeStringField("children", url + "children/");
        g.writeEndObject();
        if (job != null) writeJobSummary(g, job);
        writeTime(g, "created", e.created());
        writeTime(g, "modified", e.modified());
        g.writeNumberField("job", e.jobId());
        g.writeStringField("event", e.event());
        g.writeNumberField("counter", e.counter());
        g.writeStringField("event_display", EventTypes.display(e.event()));
        g.writeFieldName("event_data");
        g.writeRawValue(e.eventData().isBlank() ? "{}" : e.eventData()); // stored JSON, validated at ingest
        g.writeNumberField("event_level", EventTypes.level(e.event()));
        g.writeBooleanField("failed", e.failed());
        g.writeBooleanField("changed", e.changed());
        g.writeStringField("uuid", e.uuid());
        g.writeStringField("parent_uuid", e.parentUuid());
        g.writeNullField("host");
        g.writeStringField("host_name", e.hostName());
        g.writeStringField("playbook", e.playbook());
        g.writeStringField("play", e.play());
        g.writeStringField("task", e.task());
        g.writeStringField("role", e.role());
        boolean cut = truncate && Truncation.applies(e.event());
        g.writeStringField(
                "stdout", cut ? Truncation.truncate(e.stdout(), EventQueryParser.STDOUT_DISPLAY_CHARS) : e.stdout());
        g.writeNumberField("start_line", e.startLine());
        g.writeNumberField("end_line", e.endLine());
        g.writeNumberField("verbosity", e.verbosity());
        g.writeEndObject();
    }
}
