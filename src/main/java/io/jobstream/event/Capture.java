package io.jobstream.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Applies a {@link CaptureLevel} to one decoded event: what the level does not keep is dropped before the event is
 * queued, and what was dropped is measured so it can be counted.
 *
 * <p>Design note. A dropped event is not removed: its row stays, with its counter, uuid, parent, type, host and the
 * failed/changed flags, but with empty {@code stdout} and {@code event_data} {@code {}}. Counters must stay
 * gap-free, since every consumer relies on it (websocket delivery in counter order without gaps, resume,
 * {@code event_processing_finished}, the host status counts), and a bare row costs about a hundred bytes where a
 * full one costs kilobytes. Line numbers are the emitter's: a kept event keeps its {@code start_line}/{@code
 * end_line}, so they stay those of the full run's output, and a dropped one keeps its range with no text. The text
 * download is then the kept text in order; the job page shows the dropped ranges as empty lines.
 */
public final class Capture {
    /** What {@code summary} keeps in full besides failures, changes (see {@link #keepsInSummary}). */
    private static final Set<String> SUMMARY_TYPES = Set.of(
            "playbook_on_start",
            "playbook_on_play_start",
            "playbook_on_task_start",
            "playbook_on_handler_task_start",
            "playbook_on_stats");

    private Capture() {}

    /**
     * The event as the level keeps it (the same instance when nothing is dropped) and the UTF-8 bytes dropped.
     *
     * @param dropped whether anything was dropped; {@code bytes} counts stdout and event_data text removed
     */
    public record Kept(JobEvent event, boolean dropped, long bytes) {}

    public static Kept apply(JobEvent e, CaptureLevel level) {
        return switch (level) {
            case FULL -> new Kept(e, false, 0);
            case NO_EVENT_DATA -> withoutRes(e);
            case SUMMARY -> keepsInSummary(e) ? new Kept(e, false, 0) : bare(e);
        };
    }

    static boolean keepsInSummary(JobEvent e) {
        return SUMMARY_TYPES.contains(e.event()) || e.failed() || EventTypes.isFailure(e.event()) || e.changed();
    }

    private static Kept withoutRes(JobEvent e) {
        String data = e.eventData();
        if (!data.contains("\"res\"")) return new Kept(e, false, 0); // a quick no: most non-host events
        try {
            JsonNode tree = Json.MAPPER.readTree(data);
            if (!(tree instanceof ObjectNode object) || object.remove("res") == null) return new Kept(e, false, 0);
            String kept = Json.MAPPER.writeValueAsString(object);
            return new Kept(with(e, kept, e.stdout()), true, Math.max(0, utf8(data) - utf8(kept)));
        } catch (IOException x) { // the decoder walked this text already
            throw new UncheckedIOException(x);
        }
    }

    private static Kept bare(JobEvent e) {
        if (e.stdout().isEmpty() && e.eventData().equals("{}")) return new Kept(e, false, 0);
        long bytes = utf8(e.stdout()) + Math.max(0, utf8(e.eventData()) - 2);
        return new Kept(with(e, "{}", ""), true, bytes);
    }

    private static long utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static JobEvent with(JobEvent e, String eventData, String stdout) {
        return new JobEvent(
                e.jobId(),
                e.counter(),
                e.uuid(),
                e.parentUuid(),
                e.event(),
                eventData,
                stdout,
                e.startLine(),
                e.endLine(),
                e.verbosity(),
                e.hostName(),
                e.playbook(),
                e.play(),
                e.role(),
                e.task(),
                e.failed(),
                e.changed(),
                e.created(),
                e.createdFilled(),
                e.received());
    }
}
