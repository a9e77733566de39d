package io.jobstream.event;

import java.time.Instant;
import java.util.Objects;

/**
 * One validated event of one job, in AWX's shape (reference §1.5 and the {@code main_jobevent} columns).
 *
 * <p>{@code eventData} is kept as compact JSON text, exactly as it will be stored and broadcast, so that no
 * stage re-serialises it. The columns AWX derives from it ({@code failed}, {@code changed}, {@code playbook},
 * {@code play}, {@code role}, {@code task}, {@code hostName}) are derived once, by the decoder.
 *
 * @param created     when the emitter created the event (microsecond precision)
 * @param createdFilled true when the emitter sent no {@code created} and the receive time was used
 * @param received    when this node decoded the event (the first hop after the emitter)
 */
public record JobEvent(
        long jobId,
        int counter,
        String uuid,
        String parentUuid,
        String event,
        String eventData,
        String stdout,
        int startLine,
        int endLine,
        int verbosity,
        String hostName,
        String playbook,
        String play,
        String role,
        String task,
        boolean failed,
        boolean changed,
        Instant created,
        boolean createdFilled,
        Instant received)
        implements JobMessage {

    public JobEvent {
        if (jobId < 1) throw new IllegalArgumentException("jobId must be >= 1, was " + jobId);
        if (counter < 1) throw new IllegalArgumentException("counter must be >= 1, was " + counter);
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(parentUuid, "parentUuid");
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(eventData, "eventData");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(hostName, "hostName");
        Objects.requireNonNull(playbook, "playbook");
        Objects.requireNonNull(play, "play");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(received, "received");
    }

    /** AWX's {@code event_level}: 0 playbook/meta, 1 play, 2 task, 3 host. */
    public int level() {
        return EventTypes.level(event);
    }
}
