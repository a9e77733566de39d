package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.EventSource;
import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.Hub;
import io.jobstream.event.Timestamps;
import io.jobstream.queue.Watermark;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser connection's side of the fan-out: the {@link GroupMember} the {@link Hub} delivers to, tying together
 * its {@link Subscriptions} (its groups, and a {@link JobFeed} per subscribed job: sequencing, holes, catch-up from the
 * store) and one {@link Outbox} (bounded, drained by one sender at a time). Events of a job go to its feed, which
 * queues them into the outbox in counter order; protocol replies and jobs messages go to the outbox directly; a
 * reader that stopped for room is woken when the outbox has drained half. A control message that overflows the
 * outbox, or a failed send, closes it.
 *
 * <p>Threading: the hub's delivering threads, the connection's websocket thread (subscribe, replies), the store
 * readers and the sender's completions all call in. The subscriptions (groups and feeds) are guarded by this object's
 * lock, which the feeds share; a subscribe queues its {@code groups_current} reply under that lock, so it goes out
 * before any event of a job it joined. The outbox takes no lock. Ownership: the endpoint creates one per connection
 * and {@link #close}s it when the connection ends (closing leaves every group and gives the outbox's bytes back).
 */
public final class Subscriber implements GroupMember {
    private static final Logger log = LoggerFactory.getLogger(Subscriber.class);

    static final int TRY_AGAIN_LATER = 1013;
    static final String SLOW_CONSUMER = "slow_consumer";
    static final String SEND_FAILED = "send_failed";

    private final FrameSender sender;
    private final Executor executor;
    private final EventSource source;
    private final WsMetrics metrics;
    private final Clock clock;
    private final Outbox outbox;
    private final Subscriptions subscriptions; // guarded by this
    private volatile String closeReason; // null while open; written under this

    /** What a subscribe message changed, in AWX's reply terms, and the resumes it accepted (job id to counter). */
    public record GroupChange(
            List<String> current, List<String> left, List<String> joined, Map<Long, Integer> resumed) {
        public GroupChange(List<String> current, List<String> left, List<String> joined) {
            this(current, left, joined, Map.of());
        }
    }

    /**
     * What every subscriber of this node shares: the endpoint builds it once, each connection adds its sender and its
     * byte account.
     *
     * @param executor  where the outbox's drains run (and a slow consumer's close)
     * @param watermark how far the queue has committed: a hole is skipped only once what it held then is committed
     * @param recent    the live frames of the last seconds, read before the store when catching up
     */
    record Shared(
            JobFeed.Policy policy,
            Executor executor,
            JobFeed.Background background,
            EventSource source,
            Hub hub,
            WsMetrics metrics,
            Clock clock,
            Watermark watermark,
            RecentFrames recent) {

        /** A single node's (tests): the memory queue's watermark, no recent frames (catch-ups read the store). */
        static Shared local(
                JobFeed.Policy policy,
                Executor executor,
                JobFeed.Background background,
                EventSource source,
                Hub hub,
                WsMetrics metrics,
                Clock clock) {
            return new Shared(
                    policy, executor, background, source, hub, metrics, clock, Watermark.LOCAL, RecentFrames.none());
        }
    }

    /** Without a byte budget (tests). */
    Subscriber(FrameSender sender, Shared shared) {
        this(sender, shared, OutboxBytes.unbounded().open(0));
    }

    /** @param bytes this connection's share of the node's outbox bytes; closed with the subscriber */
    Subscriber(FrameSender sender, Shared shared, OutboxBytes.Account bytes) {
        this.sender = sender;
        this.executor = shared.executor();
        this.source = shared.source();
        this.metrics = shared.metrics();
        this.clock = shared.clock();
        this.outbox =
                new Outbox(sender, shared.policy().capacity(), executor, bytes, metrics, clock, new Outbox.Owner() {
                    @Override
                    public void roomFreed() {
                        resumeReaders();
                    }

                    @Override
                    public void sendFailed(Throwable cause) {
                        failed(cause);
                    }
                });
        this.subscriptions = new Subscriptions(
                this,
                new JobFeed.Shared(
                        this,
                        outbox,
                        shared.policy(),
                        shared.background(),
                        source,
                        shared.hub(),
                        metrics,
                        clock,
                        shared.watermark(),
                        shared.recent()));
    }

    /** Frames in events' groups come through {@link #offerEvent}; this is for jobs messages (and legacy callers). */
    @Override
    public boolean offer(String group, String frame) {
        if (closeReason != null) return true; // leaving: the frame has nowhere to go
        long jobId = EventMessages.jobOfEventsGroup(group);
        if (jobId > 0) {
            int counter = counterOf(frame);
            if (counter > 0) {
                return offerEvent(group, new EventFrame(jobId, counter, frame, 0, micros()));
            }
        }
        if (group.equals(EventMessages.STATUS_CHANGED_GROUP) || group.equals(EventMessages.SUMMARY_GROUP)) {
            jobsGate.deliver(frame, () -> control(frame)); // only jobs this connection's user may see
            return true;
        }
        control(frame);
        return true;
    }

    /** Decides which {@code jobs} messages go out: the endpoint's filter by who may see the job. */
    interface JobsGate {
        void deliver(String frame, Runnable send);
    }

    private volatile JobsGate jobsGate = (frame, send) -> send.run();

    void gateJobs(JobsGate gate) {
        jobsGate = gate;
    }

    @Override
    public boolean offerEvent(String group, EventFrame frame) {
        synchronized (this) {
            if (closeReason != null) return true;
            JobFeed feed = subscriptions.feed(frame.jobId());
            if (feed == null) return true; // not (or no longer) subscribed to this job
            return feed.offer(frame);
        }
    }

    @Override
    public void jobEnded(String group, long jobId, int finalCounter) {
        withFeed(jobId, feed -> feed.ended(finalCounter));
    }

    @Override
    public void recheck(String group, long jobId) {
        withFeed(jobId, JobFeed::recheck);
    }

    /** Under the lock, the job's feed, if the connection is open and follows the job. */
    private synchronized void withFeed(long jobId, Consumer<JobFeed> action) {
        if (closeReason != null) return;
        JobFeed feed = subscriptions.feed(jobId);
        if (feed != null) action.accept(feed);
    }

    /** Queues a protocol reply ({@code accept}, errors, {@code groups_current}) behind the frames already queued. */
    void reply(String frame) {
        if (closeReason != null) return;
        control(frame);
    }

    private void control(String frame) {
        if (!outbox.offerControl(frame)) closeSlow();
    }

    /** Turns batched frames (several events as one JSON array) on or off for this connection. */
    void batch(boolean on) {
        outbox.batch(on);
    }

    /**
     * Replaces the groups and queues AWX's {@code groups_current} reply, under the lock, so that the reply goes out
     * before any event of a newly subscribed job. A job newly subscribed without a resume starts after the last
     * event stored when this runs (read here, before joining, on the caller's thread): every event committed after
     * that is delivered, in particular every one committed after the client got the reply. Such a feed starts live,
     * so its events are not overtaken by jobs messages queued meanwhile; a batch committed between the read and
     * joining shows up as an ordinary gap, filled from the store after {@code gapWait}.
     */
    GroupChange subscribe(Set<String> wanted, Map<Long, Integer> resume) {
        Map<Long, Integer> starts = new HashMap<>();
        Set<Long> following = following();
        List<Long> fresh = new ArrayList<>();
        for (String group : wanted) {
            long job = EventMessages.jobOfEventsGroup(group);
            if (job > 0 && !resume.containsKey(job) && !following.contains(job)) fresh.add(job);
        }
        if (!fresh.isEmpty()) {
            try {
                starts.putAll(source.lastCounters(fresh)); // one query for all of them
            } catch (RuntimeException e) { // the feeds' readers look them up again, with retries
                log.warn("could not read the last counters of jobs {} for a new subscriber", fresh, e);
            }
        }
        synchronized (this) {
            GroupChange change = replaceGroups(wanted, resume, starts);
            if (closeReason == null) {
                control(Replies.groups(change.current(), change.left(), change.joined(), change.resumed()));
            }
            return change;
        }
    }

    private synchronized Set<Long> following() {
        return subscriptions.jobs();
    }

    /** Replaces this connection's groups with {@code wanted}: leaves the others, joins the new ones. */
    GroupChange replaceGroups(Set<String> wanted) {
        return replaceGroups(wanted, Map.of(), Map.of());
    }

    /** As {@link #replaceGroups(Set)}, with resumes and start positions: see {@link Subscriptions#replace}. */
    synchronized GroupChange replaceGroups(Set<String> wanted, Map<Long, Integer> resume, Map<Long, Integer> starts) {
        if (closeReason != null) return new GroupChange(List.of(), List.of(), List.of());
        return subscriptions.replace(wanted, resume, starts);
    }

    /** Leaves all groups and drops what is queued; returns false when already closed. Does not touch the socket. */
    boolean close(String reason) {
        synchronized (this) {
            if (closeReason != null) return false;
            closeReason = reason;
            outbox.close(); // first: the drain sends nothing more from now on
            subscriptions.leaveAll();
        }
        metrics.disconnected(reason);
        return true;
    }

    /** Starts closing the connection itself, on the calling thread (server stop). */
    void closeTransport(int status, String reason) {
        sender.close(status, reason);
    }

    /** Null while open, else why it closed (a {@code ws.disconnects} reason). */
    String closeReason() {
        return closeReason;
    }

    int queued() {
        return outbox.queued();
    }

    private void closeSlow() {
        if (!close(SLOW_CONSUMER)) return;
        // via the executor: closing writes a frame, which is not the delivering thread's job
        executor.execute(() -> sender.close(TRY_AGAIN_LATER, "slow consumer"));
    }

    /** The outbox drained half: feeds that stopped reading for room go on. */
    private void resumeReaders() {
        synchronized (this) {
            outbox.roomAwaited();
            subscriptions.roomFreed();
        }
    }

    private void failed(Throwable cause) {
        // the connection is broken; Jetty closes it and the endpoint's close hook will find us closed already
        log.debug("send failed, dropping subscriber: {}", cause.toString());
        close(SEND_FAILED);
    }

    private long micros() {
        return Timestamps.micros(clock.instant());
    }

    /**
     * The top-level {@code counter} of an event message (for frames that come as plain text, e.g. from a relay).
     * Its first unescaped {@code "counter":} is the top-level one: {@link EventMessages#event} writes it before
     * {@code event_data}, and inside JSON strings every quote is escaped. 0 when there is none.
     */
    static int counterOf(String frame) {
        int at = frame.indexOf("\"counter\":");
        if (at < 0) return 0;
        int i = at + 10;
        while (i < frame.length() && frame.charAt(i) == ' ') i++;
        long n = 0;
        int start = i;
        while (i < frame.length() && Character.isDigit(frame.charAt(i)) && i - start < 10) {
            n = n * 10 + (frame.charAt(i++) - '0');
        }
        return i == start || n > Integer.MAX_VALUE ? 0 : (int) n;
    }

    @Override
    public String toString() {
        return "Subscriber" + groups();
    }

    synchronized Set<String> groups() {
        return subscriptions.groups();
    }

    /** The jobs whose feed reads from the store right now (behind, or starting); for stats. */
    synchronized List<Long> catchingUp() {
        return subscriptions.catchingUp();
    }

    /** Per job this subscriber follows: the next counter it will queue; for stats and tests. */
    synchronized Map<Long, Integer> positions() {
        return subscriptions.positions();
    }
}
