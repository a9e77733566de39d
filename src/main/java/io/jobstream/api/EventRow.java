package io.jobstream.api;

import java.time.Instant;

/**
 * One stored job event as read back for the API.
 *
 * @param eventData the stored JSON text, embedded in responses as it is (never re-parsed)
 * @param stdout    whole, or cut by the reader to {@link EventQuery#stdoutPrefix()} characters when asked
 */
public record EventRow(
        long id,
        long jobId,
        int counter,
        String uuid,
        String parentUuid,
        String event,
        String eventData,
        boolean failed,
        boolean changed,
        String playbook,
        String play,
        String role,
        String task,
        String hostName,
        String stdout,
        int startLine,
        int endLine,
        int verbosity,
        Instant created,
        Instant modified) {}
