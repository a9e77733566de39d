package io.jobstream.job;

import io.jobstream.event.JobEof;
import io.jobstream.time.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last step of a launched run, after its process ended: wait for the plugin's EOF to be stored, and write it
 * when it does not come. Kept apart from {@link JobLauncher}, which owns the slots and processes, because it speaks
 * to the event pipeline instead ({@link LaunchedJobStore#events} to read, {@link OwnEvents} to write). Called on the
 * run's {@code job-launcher-N} worker thread, which it holds while it waits; the waiting goes through the injected
 * {@link Clock} and {@link Sleeper}, so tests move time by hand. Holds no state of its own; nothing to close.
 */
final class EofWait {
    // the launcher's logger, as before this class was split out: a job's log lines stay under one name
    private static final Logger LOG = LoggerFactory.getLogger(JobLauncher.class);
    /** How long after the process ended its EOF may still be on its way through the queue. */
    static final int EOF_WAIT_SECONDS = 10;

    private static final int EOF_ATTEMPTS = 30;
    private static final Duration EOF_POLL = Duration.ofMillis(200);

    private final LaunchedJobStore store;
    private final OwnEvents ownEvents;
    private final Clock clock;
    private final Sleeper sleeper;
    /** The launcher is closing: the node stops, no time to wait. */
    private final BooleanSupplier closed;

    EofWait(LaunchedJobStore store, OwnEvents ownEvents, Clock clock, Sleeper sleeper, BooleanSupplier closed) {
        this.store = store;
        this.ownEvents = ownEvents;
        this.clock = clock;
        this.sleeper = sleeper;
        this.closed = closed;
    }

    /**
     * Makes sure the job's events end with an EOF. The plugin sends it, and delivers it before the process exits (an
     * ingest reply means committed), so normally it is stored already. A process killed hard (SIGKILL after a cancel's
     * grace, the OOM killer) or a plugin that gave up delivering never sends it, and the job would show its events as
     * still arriving forever. So, after {@value #EOF_WAIT_SECONDS} s without one (accepted events may still sit in the
     * queue), the node writes it with the highest stored counter: what the plugin sent and the node stored. Events
     * the plugin still held when killed are lost with the process; the log line says where the job's events stop.
     */
    void closeEvents(long jobId) throws InterruptedException {
        Instant deadline = clock.instant().plusSeconds(EOF_WAIT_SECONDS);
        LaunchedJobStore.Events events;
        try {
            while ((events = store.events(jobId)).finalCounter() == null
                    && clock.instant().isBefore(deadline)
                    && !closed.getAsBoolean()) {
                sleeper.sleep(EOF_POLL);
            }
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot check for its EOF: {}", jobId, e.getMessage());
            return;
        }
        if (events.finalCounter() != null || closed.getAsBoolean()) return; // closing: the node stops, no time to wait
        LOG.warn(
                "job {}: ansible-playbook ended without the plugin's EOF (killed, or it could not deliver); its events"
                        + " end at counter {}: writing the EOF",
                jobId,
                events.lastCounter());
        write(jobId, events.lastCounter());
    }

    /**
     * Writes the job's EOF at once if none is stored, without waiting for one: for a run a killed node left behind,
     * whose processes are gone and whose token is revoked, so nothing more is on its way. Returns where its events end.
     */
    long closeNow(long jobId) throws InterruptedException {
        LaunchedJobStore.Events events = store.events(jobId);
        if (events.finalCounter() == null) write(jobId, events.lastCounter());
        return events.lastCounter();
    }

    private void write(long jobId, long lastCounter) throws InterruptedException {
        String eof = JobEof.toJson(jobId, (int) lastCounter);
        for (int attempt = 1; attempt <= EOF_ATTEMPTS; attempt++) {
            try {
                if (ownEvents.submit(eof).get(30, TimeUnit.SECONDS)) return;
            } catch (ExecutionException | TimeoutException e) {
                LOG.debug("job {}: EOF not stored yet: {}", jobId, e.toString());
            }
            sleeper.sleep(Duration.ofSeconds(1));
        }
        LOG.error("job {}: could not store its EOF after {} attempts; its events stay open", jobId, EOF_ATTEMPTS);
    }
}
