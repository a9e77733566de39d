package io.jobstream.broadcast;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEvent;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import io.jobstream.metrics.HopHistogram;
import io.jobstream.metrics.Hops;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-node {@link Broadcaster}: turns a committed batch into AWX's websocket messages and delivers them to
 * this node's {@link Hub}.
 *
 * <p>Threading: {@link #publish} runs on the receiver thread right after a commit, {@link #publishStatus} on whichever
 * thread changed a job's status; both only serialise and enqueue. Per batch, events go out in the batch's order, then
 * status changes, then summaries, so a {@code final_counter} never overtakes the events of the same batch. A frame is
 * serialised only when its group has members on this node. Owns nothing: {@link #close} does nothing.
 */
public final class MemoryBroadcaster implements Broadcaster {
    private static final Logger log = LoggerFactory.getLogger(MemoryBroadcaster.class);

    private final Hub hub;
    private final Clock clock;
    private final Counter failures;
    private final HopHistogram createdReceived;
    private final HopHistogram receivedCommitted;
    private final HopHistogram committedPublished;

    public MemoryBroadcaster(Hub hub, MeterRegistry registry) {
        this(hub, registry, Clock.systemUTC());
    }

    public MemoryBroadcaster(Hub hub, MeterRegistry registry, Clock clock) {
        this.hub = hub;
        this.clock = clock;
        this.failures = Counter.builder(Metrics.BROADCAST_FAILURES)
                .description("messages that could not be built or delivered")
                .register(registry);
        Hops hops = Hops.on(registry);
        this.createdReceived = hops.hop(Metrics.HOP_CREATED_RECEIVED);
        this.receivedCommitted = hops.hop(Metrics.HOP_RECEIVED_COMMITTED);
        this.committedPublished = hops.hop(Metrics.HOP_COMMITTED_PUBLISHED);
    }

    @Override
    public void publish(CommittedBatch batch) {
        long lastJob = -1;
        String group = null;
        boolean watched = false;
        List<EventFrame> run = new ArrayList<>(); // the current job's frames, delivered together (Hub#deliverEvents)
        long published = Timestamps.micros(clock.instant());
        long committed = Timestamps.micros(batch.committed());
        for (StoredEvent stored : batch.events()) {
            JobEvent e = stored.event();
            long jobId = e.jobId();
            long created = Timestamps.micros(e.created());
            long received = Timestamps.micros(e.received());
            // the first three hops, once per event, whether or not anyone watches (the last ones are per socket)
            createdReceived.record(received - created); // a negative span (clock skew) counts as 0
            receivedCommitted.record(committed - received);
            committedPublished.record(published - committed);
            if (jobId != lastJob) { // batches are mostly one job: build its group name once
                deliver(group, run);
                lastJob = jobId;
                group = EventMessages.jobEventsGroup(jobId);
                watched = hub.hasMembers(group);
            }
            if (!watched) continue;
            try {
                run.add(new EventFrame(jobId, e.counter(), EventMessages.event(stored), created, published));
            } catch (RuntimeException ex) {
                // the events are committed; a broadcast failure must not make the receiver retry or stall
                failures.increment();
                log.warn("could not broadcast event id={} job={} counter={}", stored.id(), jobId, e.counter(), ex);
            }
        }
        deliver(group, run);
        for (JobChange change : batch.jobChanges()) {
            if (change.finalCounter() != null) {
                hub.jobEnded(change.jobId(), change.finalCounter()); // after the batch's events: any still missing?
            }
            if (change.status() != null) publishStatus(change.jobId(), change.status());
            if (change.finalCounter() != null && hub.hasMembers(EventMessages.SUMMARY_GROUP)) {
                hub.deliver(EventMessages.SUMMARY_GROUP, EventMessages.summary(change.jobId(), change.finalCounter()));
            }
        }
    }

    /** The hub this broadcaster delivers to. */
    public Hub hub() {
        return hub;
    }

    /** Whether a subscriber on this node follows the job's events now (a relay may skip decoding the others). */
    public boolean watches(long jobId) {
        return hub.hasMembers(EventMessages.jobEventsGroup(jobId));
    }

    /**
     * A batch another node committed and relayed, of which the events of jobs nobody here watched were not decoded:
     * {@code skipped} of them, with their created and received times (epoch µs), count in the first three hops as
     * every event does; the rest is {@link #publish}ed. A subscriber who joins meanwhile reads those from the store,
     * as after any relay message this node missed.
     */
    public void publishRelayed(CommittedBatch batch, long[] created, long[] received, int skipped) {
        long published = Timestamps.micros(clock.instant());
        long committed = Timestamps.micros(batch.committed());
        for (int i = 0; i < skipped; i++) {
            createdReceived.record(received[i] - created[i]);
            receivedCommitted.record(committed - received[i]);
            committedPublished.record(published - committed);
        }
        publish(batch);
    }

    /** Delivers one job's run of frames and empties it. */
    private void deliver(String group, List<EventFrame> run) {
        if (run.isEmpty()) return;
        try {
            hub.deliverEvents(group, run);
        } catch (RuntimeException ex) { // as above: committed already, so counted and logged, never thrown back
            failures.increment();
            log.warn("could not broadcast {} events of group {}", run.size(), group, ex);
        }
        run.clear();
    }

    /** A status change that does not come from a committed batch (job launch, cancel, reaper). */
    public void publishStatus(long jobId, String status) {
        publishStatus(jobId, status, null);
    }

    /** As {@link #publishStatus(long, String)}, with the job's finish time for final states; delivered locally. */
    @Override
    public void publishStatus(long jobId, String status, Instant finishedOrNull) {
        if (!hub.hasMembers(EventMessages.STATUS_CHANGED_GROUP)) return;
        hub.deliver(EventMessages.STATUS_CHANGED_GROUP, EventMessages.statusChanged(jobId, status, finishedOrNull));
    }

    @Override
    public void close() {}
}
