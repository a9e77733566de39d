package io.jobstream.broadcast;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Set;

/**
 * The JSON text of AWX's browser websocket messages (reference §2.8 and §4.4), built once per event or change and
 * then shared by every subscriber.
 *
 * <p>This is on the hot path of every event, so it writes with a {@link JsonGenerator} into a per-thread reusable
 * buffer, and embeds {@code event_data} as the raw compact JSON text the decoder already produced instead of parsing
 * it again. Thread-safe: any thread may call it (the receiver publishes events, the job launcher status changes).
 */
public final class EventMessages {
    public static final String JOB_EVENTS = "job_events";
    public static final String STATUS_CHANGED_GROUP = "jobs-status_changed";
    public static final String SUMMARY_GROUP = "jobs-summary";

    private static final JsonFactory FACTORY = Json.MAPPER.getFactory();
    /** A buffer grown past this by a huge event is dropped after use rather than kept per thread forever. */
    private static final int KEEP_BUFFER_CHARS = 256 * 1024;

    private static final ThreadLocal<Buffer> BUFFERS = ThreadLocal.withInitial(Buffer::new);

    /** AWX sends {@code finished} only for these, in Python's {@code isoformat()} with a literal Z. */
    private static final Set<String> FINISHED_STATES = Set.of("successful", "failed", "canceled");

    private static final DateTimeFormatter FINISHED =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private EventMessages() {}

    public static String jobEventsGroup(long jobId) {
        return JOB_EVENTS + "-" + jobId;
    }

    /** The job of a {@code job_events-<id>} group name, or 0 for any other group. */
    public static long jobOfEventsGroup(String group) {
        if (!group.startsWith(JOB_EVENTS + "-")) return 0;
        String id = group.substring(JOB_EVENTS.length() + 1);
        if (id.isEmpty() || id.length() > 18) return 0;
        for (int i = 0; i < id.length(); i++) if (!Character.isDigit(id.charAt(i))) return 0;
        return Long.parseLong(id);
    }

    /** The per-event message, field for field as AWX's {@code emit_event_detail} builds it for a job event. */
    public static String event(StoredEvent stored) {
        JobEvent e = stored.event();
        String created = Timestamps.format(e.created());
        Buffer buffer = BUFFERS.get();
        try (JsonGenerator g = FACTORY.createGenerator(buffer.reset())) {
            g.writeStartObject();
            g.writeNumberField("id", stored.id());
            g.writeNumberField("job", e.jobId());
            g.writeStringField("created", created);
            g.writeStringField("modified", created); // AWX quirk: the event's created, not the row's modified
            g.writeStringField("group_name", JOB_EVENTS);
            g.writeStringField("url", "/api/v2/job_events/" + stored.id()); // no trailing slash, as AWX
            g.writeStringField("stdout", e.stdout());
            g.writeNumberField("counter", e.counter());
            g.writeStringField("uuid", e.uuid());
            g.writeStringField("parent_uuid", e.parentUuid());
            g.writeNumberField("start_line", e.startLine());
            g.writeNumberField("end_line", e.endLine());
            g.writeStringField("event", e.event());
            g.writeFieldName("event_data");
            g.writeRawValue(e.eventData());
            g.writeBooleanField("failed", e.failed());
            g.writeBooleanField("changed", e.changed());
            g.writeNumberField("event_level", e.level());
            g.writeStringField("play", e.play());
            g.writeStringField("role", e.role());
            g.writeStringField("task", e.task());
            g.writeEndObject();
        } catch (IOException impossible) { // the buffer is in memory
            throw new UncheckedIOException(impossible);
        }
        return buffer.take();
    }

    /** {@code jobs-status_changed}, without the fields we do not model (instance group, template, workflow). */
    public static String statusChanged(long jobId, String status, Instant finishedOrNull) {
        Buffer buffer = BUFFERS.get();
        try (JsonGenerator g = FACTORY.createGenerator(buffer.reset())) {
            g.writeStartObject();
            g.writeNumberField("unified_job_id", jobId);
            g.writeStringField("status", status);
            if (finishedOrNull != null && FINISHED_STATES.contains(status)) {
                g.writeStringField("finished", FINISHED.format(finishedOrNull));
            }
            g.writeStringField("type", "job");
            g.writeStringField("group_name", "jobs");
            g.writeEndObject();
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
        return buffer.take();
    }

    /** {@code jobs-summary}: the job's last counter, sent once its EOF has been stored. */
    public static String summary(long jobId, int finalCounter) {
        return "{\"group_name\":\"jobs\",\"unified_job_id\":" + jobId + ",\"final_counter\":" + finalCounter + "}";
    }

    /** A writer over a reused StringBuilder: one copy into the final String, no per-call growth. */
    private static final class Buffer extends Writer {
        private StringBuilder chars = new StringBuilder(4096);

        Buffer reset() {
            chars.setLength(0);
            return this;
        }

        String take() {
            String text = chars.toString();
            if (chars.capacity() > KEEP_BUFFER_CHARS) chars = new StringBuilder(4096);
            return text;
        }

        @Override
        public void write(char[] buf, int off, int len) {
            chars.append(buf, off, len);
        }

        @Override
        public void write(String str, int off, int len) {
            chars.append(str, off, off + len);
        }

        @Override
        public void write(int c) {
            chars.append((char) c);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {} // the generator closes its target; this one is reused
    }
}
