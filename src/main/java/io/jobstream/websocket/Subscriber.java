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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser connection's side of the fan-out: its groups in the {@link Hub}, and the two parts it ties together,
 * a {@link JobFeed} per subscribed job (sequencing, holes, catch-up from the store) and one {@link Outbox} (bounded,
 * drained by one sender at a time). Events of a job go to its feed, which queues them into the outbox in counter
 * order; protocol replies and jobs messages go to the outbox directly; a reader that stopped for room is woken when
 * the outbox has drained half.
 *
 * <p>Threading: the hub's delivering threads, the connection's websocket thread (subscribe, replies), the store
 * readers and the sender's completions all call in. The groups and the feeds are guarded by this object's lock,
 * which the feeds share; a subscribe queues its {@code groups_current} reply under that lock, so it goes out before
 * any event of a job it joined. The outbox takes no lock. Ownership: the endpoint creates one per connection and
 * {@link #close}s it when the connection ends (closing leaves every group and gives the outbox's bytes back).
 */
public final class Subscriber implements GroupMember {
    private static final Logger log = LoggerFactory.getLogger(Subscriber.class);

    static final int TRY_AGAIN_LATER = 1013;
    static final String SLOW_CONSUMER = "slow_consumer";
    static final String SEND_FAILED = "send_failed";

    private final FrameSender sender;
    private final Executor executor;
    private final EventSource source;
    private final Hub hub;
    private final WsMetrics metrics;
    private final Clock clock;
    private final Outbox outbox;
    private final JobFeed.Shared shared;

    private final Set<String> groups = new LinkedHashSet<>(); // guarded by this
    private final Map<Long, JobFeed> feeds = new HashMap<>(); // guarded by this
    private volatile String closeReason; // null while open; written under this

    /** What a subscribe message changed, in AWX's reply terms, and the resumes it accepted (job id to counter). */
    public record GroupChange(
            List<String> current, List<String> left, List<String> joined, Map<Long, Integer> resumed) {
        public GroupChange(List<String> current, List<String> left, List<String> joined) {
            this(current, left, joined, Map.of());
        }
    }

    /** @param watermark how far the queue has committed: a hole is skipped only once what it held then is committed */
    Subscriber(
            FrameSender sender,
            JobFeed.Policy policy,
            Executor executor,
            JobFeed.Background background,
            EventSource source,
            Hub hub,
            WsMetrics metrics,
            Clock clock,
            Watermark watermark) {
        this(
                sender,
                policy,
                executor,
                background,
                source,
                hub,
                metrics,
                clock,
                watermark,
                OutboxBytes.unbounded().open(0));
    }

    /** Single-node subscribers (tests): the memory queue's watermark, no byte budget. */
    Subscriber(
            FrameSender sender,
            JobFeed.Policy policy,
            Executor executor,
            JobFeed.Background background,
            EventSource source,
            Hub hub,
            WsMetrics metrics,
            Clock clock) {
        this(sender, policy, executor, background, source, hub, metrics, clock, Watermark.LOCAL);
    }

    /** @param bytes this connection's share of the node's outbox bytes; closed with the subscriber */
    Subscriber(
            FrameSender sender,
            JobFeed.Policy policy,
            Executor executor,
            JobFeed.Background background,
            EventSource source,
            Hub hub,
            WsMetrics metrics,
            Clock clock,
            OutboxBytes.Account bytes) {
        this(sender, policy, executor, background, source, hub, metrics, clock, Watermark.LOCAL, bytes);
    }

    /**
     * @param executor  where the outbox's drains run (and a slow consumer's close)
     * @param watermark how far the queue has committed: a hole is skipped only once what it held then is committed
     * @param bytes     this connection's share of the node's outbox bytes; closed with the subscriber
     */
    Subscriber(
            FrameSender sender,
            JobFeed.Policy policy,
            Executor executor,
            JobFeed.Background background,
            EventSource source,
            Hub hub,
            WsMetrics metrics,
            Clock clock,
            Watermark watermark,
            OutboxBytes.Account bytes) {
        this.sender = sender;
        this.executor = executor;
        this.source = source;
        this.hub = hub;
        this.metrics = metrics;
        this.clock = clock;
        this.outbox = new Outbox(sender, policy.capacity(), executor, bytes, metrics, clock, new Outbox.Owner() {
            @Override
            public void roomFreed() {
                resumeReaders();
            }

            @Override
            public void sendFailed(Throwable cause) {
                failed(cause);
            }
        });
        this.shared = new JobFeed.Shared(this, outbox, policy, background, source, hub, metrics, clock, watermark);
    }

    /** Frames in events' groups come through {@link #offerEvent}; this is for jobs messages (and legacy callers). */
    @Override
    public boolean offer(String group, String frame) {
        if (closeReason != null) return true; // leaving: the frame has nowhere to go
        long jobId = jobOf(group);
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
            JobFeed feed = feeds.get(frame.jobId());
            if (feed == null) return true; // not (or no longer) subscribed to this job
            return feed.offer(frame);
        }
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
            long job = jobOf(group);
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
        return Set.copyOf(feeds.keySet());
    }

    /** Replaces this connection's groups with {@code wanted}: leaves the others, joins the new ones. */
    GroupChange replaceGroups(Set<String> wanted) {
        return replaceGroups(wanted, Map.of(), Map.of());
    }

    /**
     * As {@link #replaceGroups(Set)}; {@code resume} (job id to the last counter the client has) restarts those
     * jobs' feeds after that counter, replayed from the store. A job in {@code wanted} without a resume continues
     * where it is, or, when new, starts after its counter in {@code starts} (the last stored), or when that is
     * unknown after the last event stored when its reader looks.
     */
    synchronized GroupChange replaceGroups(Set<String> wanted, Map<Long, Integer> resume, Map<Long, Integer> starts) {
        if (closeReason != null) return new GroupChange(List.of(), List.of(), List.of());
        List<String> left = new ArrayList<>();
        for (String group : groups) {
            if (!wanted.contains(group)) {
                hub.leave(group, this);
                long job = jobOf(group);
                if (job > 0) stopFeed(feeds.remove(job));
                left.add(group);
            }
        }
        Map<Long, Integer> resumed = new LinkedHashMap<>();
        List<String> joined = new ArrayList<>();
        for (String group : wanted) {
            long job = jobOf(group);
            if (job > 0) {
                Integer last = resume.get(job);
                if (last != null) {
                    resumed.put(job, last);
                    startFeed(job, last + 1); // replaces a running one: the client said where it is
                } else if (!feeds.containsKey(job)) {
                    Integer stored = starts.get(job);
                    if (stored == null) {
                        startFeed(job, 0);
                    } else { // nothing to read: live from the next counter (a batch committed meanwhile is a gap)
                        JobFeed feed = new JobFeed(shared, job, stored + 1);
                        feed.startLive();
                        feeds.put(job, feed);
                    }
                }
            }
            if (!groups.contains(group)) {
                hub.join(group, this);
                joined.add(group);
            }
        }
        groups.clear();
        groups.addAll(wanted);
        return new GroupChange(List.copyOf(wanted), left, joined, resumed);
    }

    /** Under the lock: a feed that reads from {@code next} (0: after what is stored), replacing the job's old one. */
    private void startFeed(long job, int next) {
        JobFeed feed = new JobFeed(shared, job, next);
        stopFeed(feeds.put(job, feed));
        feed.start();
    }

    private static void stopFeed(JobFeed feed) {
        if (feed != null) feed.stop();
    }

    /** Leaves all groups and drops what is queued; returns false when already closed. Does not touch the socket. */
    boolean close(String reason) {
        synchronized (this) {
            if (closeReason != null) return false;
            closeReason = reason;
            outbox.close(); // first: the drain sends nothing more from now on
            for (String group : groups) hub.leave(group, this);
            groups.clear();
            feeds.values().forEach(JobFeed::stop);
            feeds.clear();
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
            for (JobFeed feed : feeds.values()) feed.roomFreed();
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

    /** The job id of a {@code job_events-N} group, else 0. */
    static long jobOf(String group) {
        if (!group.startsWith(EventMessages.JOB_EVENTS + "-")) return 0;
        String id = group.substring(EventMessages.JOB_EVENTS.length() + 1);
        if (id.isEmpty() || id.length() > 18) return 0;
        for (int i = 0; i < id.length(); i++) if (!Character.isDigit(id.charAt(i))) return 0;
        return Long.parseLong(id);
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
        return Set.copyOf(groups);
    }

    /** The jobs whose feed reads from the store right now (behind, or starting); for stats. */
    synchronized List<Long> catchingUp() {
        List<Long> jobs = new ArrayList<>();
        feeds.forEach((job, feed) -> {
            if (feed.catchingUp()) jobs.add(job);
        });
        return jobs;
    }

    /** Per job this subscriber follows: the next counter it will queue; for stats and tests. */
    synchronized Map<Long, Integer> positions() {
        Map<Long, Integer> positions = new LinkedHashMap<>();
        feeds.forEach((job, feed) -> positions.put(job, feed.next()));
        return positions;
    }
}
