package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.EventSource;
import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.Hub;
import io.jobstream.event.StoredEvent;
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
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One browser connection's side of the fan-out: its groups, its per-job sequencing, its bounded outbox, and the
 * sender draining it.
 *
 * <p><b>Sending.</b> Frames arrive from the receiver thread (through the {@link Hub}), from the store reader and from
 * the connection's websocket thread (replies); none may wait for the network. They are put in the outbox and, when
 * no drain is running, one is handed to the sender executor. A drain hands frames to Jetty until {@link #WINDOW} are
 * unwritten, then stops; each completion restarts it when frames are waiting. Jetty often completes a send inside
 * {@code sendText} itself: the drain is then still running, so the completion only counts and the loop goes on,
 * instead of recursing once per frame.
 *
 * <p><b>Sequencing (per job).</b> Each {@code job_events-N} subscription has a {@link Feed}: the next counter this
 * client must get. A live event below it is a duplicate and dropped; one above it is held (a gap: another emitter's
 * event is still being committed); the one equal to it is queued, then whatever held events follow it. A gap still
 * open after {@code gapWait}, too many held events, a full outbox (the client is slow) or the event rate limit switch
 * the feed to <em>catch-up</em>: live frames of the job are no longer queued (the newest {@code holdLimit} are kept
 * aside, and the highest live counter remembered) and the background reader pages the job's events from the store,
 * counter after counter, as the outbox drains. When a read finds nothing newer than what it queued, the feed is live
 * again if no newer live event went by meanwhile, or if the live frames kept aside continue exactly where the read
 * ended (it then goes on with those). Since the receiver publishes only committed events, nothing falls between.
 *
 * <p><b>Holes.</b> A counter the store lacks while it has later ones (an emitter lost an event, or a node still holds
 * it) is waited for: the reader polls the store until {@code holeWait} has passed since it first saw the hole, and
 * until the queue's {@link Watermark} says that everything it held when the hole was first seen has been committed
 * (in a cluster, a node killed while holding events keeps the hole open until another node has claimed and committed
 * them); only then are the missing counter(s) skipped, logged and counted ({@code ws.holes.skipped}). The watermark
 * is asked before the store read whose result decides, so an event committed just before the read is in it. A
 * skipped event that is stored later all the same (an emitter that sends it after all) is still sent when its live
 * frame comes, late and out of counter order, and counted ({@code ws.events.late}): being late is better than being
 * lost. The skipped counters are remembered as at most {@link #SKIPPED_RANGES} ranges per job (the oldest forgotten
 * first).
 *
 * <p><b>Bounds.</b> Event frames queued ≤ {@code capacity}, and their bytes (queued or handed to Jetty, not yet
 * written) within the connection's, its user's and the node's byte budgets ({@link OutboxBytes}): a frame that does
 * not fit is not queued, its feed catches up from the store as for a full outbox, and the store reader asks for no
 * more bytes than there is room for. Held events per job ≤ {@code holdLimit} and {@code holdBytes}; protocol replies
 * and jobs messages may use {@link #CONTROL_RESERVE} more, and only when even that is full is the connection closed
 * (1013, the hard safety net). A socket that accepts no bytes at all is closed by Jetty's idle timeout.
 */
public final class Subscriber implements GroupMember {
    private static final Logger log = LoggerFactory.getLogger(Subscriber.class);

    static final int TRY_AGAIN_LATER = 1013;
    static final String SLOW_CONSUMER = "slow_consumer";
    static final String SEND_FAILED = "send_failed";
    /** Room for replies and jobs messages beyond the event capacity, so a client in catch-up still gets them. */
    static final int CONTROL_RESERVE = 1_000;
    /** Events read from the store per query. */
    static final int PAGE = 500;
    /** Skipped counter ranges remembered per job, to let their late events through. */
    static final int SKIPPED_RANGES = 256;
    /** How often a hole is looked up again while waiting for it. */
    static final long HOLE_POLL_MILLIS = 100;
    /** After a failed store read. */
    static final long RETRY_MILLIS = 1_000;
    /** Most events per batched frame, and roughly most bytes. */
    static final int BATCH_EVENTS = 500;
    static final int BATCH_CHARS = 1 << 20;

    /**
     * Frames handed to Jetty and not yet written, per connection. More than one lets Jetty gather several frames
     * into one write (one frame at a time capped a connection at one frame per network round of the flusher); few
     * enough that the outbox stays the queue that matters.
     */
    static final int WINDOW = 32;

    /**
     * What the delivering side needs beyond the outbox: when to give up on gaps and holes, the rate limit.
     *
     * @param holdBytes most bytes of live frames kept aside per job (they are shared with the job's other
     *                  subscribers, but a stalled subscriber would keep them alive: 10,000 frames of 2 MB are 20 GB)
     */
    record Policy(int capacity, int holdLimit, long gapWaitMillis, long holeWaitMillis, int maxEventRate,
                  long holdBytes) {
        Policy(int capacity, int holdLimit, long gapWaitMillis, long holeWaitMillis, int maxEventRate) {
            this(capacity, holdLimit, gapWaitMillis, holeWaitMillis, maxEventRate, Long.MAX_VALUE / 4);
        }
    }

    /**
     * How often a feed whose connection holds nothing, while its user's other connections hold the user's whole
     * byte budget, looks again: no completion of its own will wake it.
     */
    static final long STARVED_RETRY_MILLIS = 250;

    /** Runs store reads and delayed checks off the delivering thread. */
    interface Background {
        void execute(Runnable task);

        void schedule(Runnable task, long delayMillis);
    }

    /** A queued message; {@code bytes} is what an event charges to the byte budget (0 for replies). */
    private record Out(String text, EventFrame event, long bytes) {
        /** An event: its text and its UTF-8 bytes are both in memory until written. */
        Out(EventFrame event) {
            this(event.text(), event, (long) event.text().length() + event.utf8().length);
        }

        Out(String reply) {
            this(reply, null, 0);
        }

        /** A live frame: one object for all the job's subscribers (a replayed one was built for this one alone). */
        boolean shared() {
            return event != null && event.live();
        }
    }

    private final FrameSender sender;
    private final Policy policy;
    private final Executor executor;
    private final Background background;
    private final EventSource source;
    private final Hub hub;
    private final WsMetrics metrics;
    private final Clock clock;
    private final Watermark watermark;
    private final OutboxBytes.Account bytes;

    private final ConcurrentLinkedQueue<Out> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger sending = new AtomicInteger(); // frames handed to Jetty, not yet completed
    private volatile boolean waitingForRoom; // some feed stopped reading because the outbox was full
    private volatile boolean batch;

    private final Set<String> groups = new LinkedHashSet<>(); // guarded by this
    private final Map<Long, Feed> feeds = new HashMap<>(); // guarded by this
    private volatile String closeReason; // null while open; written under this

    /** What a subscribe message changed, in AWX's reply terms, and the resumes it accepted (job id to counter). */
    public record GroupChange(List<String> current, List<String> left, List<String> joined, Map<Long, Integer> resumed) {
        public GroupChange(List<String> current, List<String> left, List<String> joined) {
            this(current, left, joined, Map.of());
        }
    }

    /** One job's sequencing state for this subscriber; guarded by the subscriber. */
    private static final class Feed {
        final long jobId;
        final String group;
        /** The next counter to queue; 0 until the start position is known (read from the store). */
        int next;
        /** Catching up from the store: live frames are not queued, only the highest counter remembered. */
        boolean catchingUp = true;
        int liveHigh;
        /** Live frames kept aside, by counter; change it only through hold/pollHeld/dropHeldBelow (bytes). */
        final TreeMap<Integer, Out> held = new TreeMap<>();
        long heldBytes;
        /** Counters skipped as holes: start to end, inclusive. */
        final TreeMap<Integer, Integer> skipped = new TreeMap<>();
        boolean gapCheckPending;
        long holeSinceMillis;
        /** The queue's position when the hole was first seen, and whether it was committed through it before the read. */
        long holeMark;
        boolean holeSettled;
        /** A store read is scheduled or running (at most one per feed). */
        boolean reading;
        boolean waitingForRoom;
        /** This catch-up was already logged and counted as over capacity. */
        boolean overCapacityReported;
        double tokens;
        long tokensAtMillis;

        Feed(long jobId, int next) {
            this.jobId = jobId;
            this.group = EventMessages.jobEventsGroup(jobId);
            this.next = next;
        }

        /** Keeps {@code out} aside; the oldest go beyond {@code limit} frames or {@code maxBytes} (the newest stays). */
        void hold(Out out, int limit, long maxBytes) {
            Out replaced = held.put(out.event().counter(), out);
            heldBytes += out.bytes() - (replaced == null ? 0 : replaced.bytes());
            while (held.size() > 1 && (held.size() > limit || heldBytes > maxBytes)) pollHeld();
        }

        Map.Entry<Integer, Out> pollHeld() {
            Map.Entry<Integer, Out> first = held.pollFirstEntry();
            if (first != null) heldBytes -= first.getValue().bytes();
            return first;
        }

        void dropHeldBelow(int counter) {
            while (!held.isEmpty() && held.firstKey() < counter) pollHeld();
        }
    }

    /** @param watermark how far the queue has committed: a hole is skipped only once what it held then is committed */
    Subscriber(FrameSender sender, Policy policy, Executor executor, Background background, EventSource source, Hub hub,
            WsMetrics metrics, Clock clock, Watermark watermark) {
        this(sender, policy, executor, background, source, hub, metrics, clock, watermark, OutboxBytes.unbounded().open(0));
    }

    /** Single-node subscribers (tests): the memory queue's watermark, no byte budget. */
    Subscriber(FrameSender sender, Policy policy, Executor executor, Background background, EventSource source, Hub hub,
            WsMetrics metrics, Clock clock) {
        this(sender, policy, executor, background, source, hub, metrics, clock, Watermark.LOCAL);
    }

    /** @param bytes this connection's share of the node's outbox bytes; closed with the subscriber */
    Subscriber(FrameSender sender, Policy policy, Executor executor, Background background, EventSource source, Hub hub,
            WsMetrics metrics, Clock clock, OutboxBytes.Account bytes) {
        this(sender, policy, executor, background, source, hub, metrics, clock, Watermark.LOCAL, bytes);
    }

    /**
     * @param watermark how far the queue has committed: a hole is skipped only once what it held then is committed
     * @param bytes     this connection's share of the node's outbox bytes; closed with the subscriber
     */
    Subscriber(FrameSender sender, Policy policy, Executor executor, Background background, EventSource source, Hub hub,
            WsMetrics metrics, Clock clock, Watermark watermark, OutboxBytes.Account bytes) {
        this.bytes = bytes;
        this.sender = sender;
        this.policy = policy;
        this.executor = executor;
        this.background = background;
        this.source = source;
        this.hub = hub;
        this.metrics = metrics;
        this.clock = clock;
        this.watermark = watermark;
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
            Feed feed = feeds.get(frame.jobId());
            if (feed == null) return true; // not (or no longer) subscribed to this job
            int counter = frame.counter();
            if (feed.next > 0 && counter < feed.next && wasSkipped(feed, counter)) {
                // a hole's event after all: late and out of order, but not lost
                metrics.late();
                if (!queueEvent(new Out(frame))) catchUp(feed, WsMetrics.CATCHUP_OVERFLOW);
                return true;
            }
            if (feed.catchingUp) {
                // the store has it and the reader will get there; the newest live frames are kept (bounded) so
                // that the reader can hand over to them once it reaches them, instead of chasing the live edge
                feed.liveHigh = Math.max(feed.liveHigh, counter);
                if (feed.next > 0 && counter >= feed.next) {
                    feed.hold(new Out(frame), policy.holdLimit(), policy.holdBytes());
                }
                return true;
            }
            if (counter < feed.next || feed.held.containsKey(counter)) {
                metrics.duplicate();
                return true;
            }
            Out out = new Out(frame);
            if (counter > feed.next) {
                feed.hold(out, Integer.MAX_VALUE, Long.MAX_VALUE);
                if (feed.held.size() > policy.holdLimit() || feed.heldBytes > policy.holdBytes()) {
                    catchUp(feed, WsMetrics.CATCHUP_GAP);
                } else {
                    scheduleGapCheck(feed);
                }
                return true;
            }
            return queueLive(feed, out) && queueHeld(feed);
        }
    }

    /** Queues the next live event of {@code feed}; false when the outbox was full (the feed then catches up). */
    private boolean queueLive(Feed feed, Out out) {
        if (!takeToken(feed)) {
            feed.liveHigh = Math.max(feed.liveHigh, out.event().counter());
            catchUp(feed, WsMetrics.CATCHUP_RATE);
            return true;
        }
        if (!queueEvent(out)) {
            feed.liveHigh = Math.max(feed.liveHigh, out.event().counter());
            // kept with the live frames that follow, so the reader can hand over right here (see read)
            feed.hold(out, policy.holdLimit(), policy.holdBytes());
            catchUp(feed, WsMetrics.CATCHUP_OVERFLOW);
            feed.overCapacityReported = true; // the hub logs and counts this one
            return false;
        }
        feed.next = out.event().counter() + 1;
        return true;
    }

    private boolean queueHeld(Feed feed) {
        while (!feed.catchingUp && !feed.held.isEmpty() && feed.held.firstKey() <= feed.next) {
            Map.Entry<Integer, Out> first = feed.pollHeld();
            if (first.getKey() < feed.next) continue;
            if (!queueLive(feed, first.getValue())) return false;
        }
        return true;
    }

    private void scheduleGapCheck(Feed feed) {
        if (feed.gapCheckPending) return;
        feed.gapCheckPending = true;
        int waitingFor = feed.next;
        background.schedule(() -> gapCheck(feed, waitingFor), policy.gapWaitMillis());
    }

    /** A gap that is still open {@code gapWait} after it appeared is filled from the store. */
    private void gapCheck(Feed feed, int waitingFor) {
        synchronized (this) {
            feed.gapCheckPending = false;
            if (closeReason != null || feeds.get(feed.jobId) != feed || feed.catchingUp || feed.held.isEmpty()) return;
            if (feed.next == waitingFor) {
                catchUp(feed, WsMetrics.CATCHUP_GAP);
            } else { // that gap closed, a later one is open: give it its own wait
                feed.gapCheckPending = true;
                int now = feed.next;
                background.schedule(() -> gapCheck(feed, now), policy.gapWaitMillis());
            }
        }
    }

    /** Switches {@code feed} to reading from the store; held live frames stay for the handover back to live. */
    private void catchUp(Feed feed, String reason) {
        if (!feed.held.isEmpty()) feed.liveHigh = Math.max(feed.liveHigh, feed.held.lastKey());
        feed.catchingUp = true;
        metrics.catchUp(reason);
        startReading(feed);
    }

    private void startReading(Feed feed) {
        if (feed.reading) return;
        feed.reading = true;
        feed.waitingForRoom = false;
        background.execute(() -> read(feed));
    }

    /**
     * The store reader of one feed: pages events from {@code next} into the outbox while there is room, waits for
     * holes, and hands the feed back to the live path once it has caught up.
     */
    private void read(Feed feed) {
        while (true) {
            int from;
            int limit;
            long maxBytes;
            synchronized (this) {
                if (closeReason != null || feeds.get(feed.jobId) != feed || !feed.catchingUp) {
                    feed.reading = false;
                    return;
                }
                int room = policy.capacity() - queued.get();
                if (room < Math.min(PAGE, (policy.capacity() + 1) / 2) || bytes.blocked()) {
                    if (bytes.starvedByOwnUser()) { // no completion of ours will come to wake this feed
                        background.schedule(() -> read(feed), STARVED_RETRY_MILLIS); // flag stays set
                    } else {
                        waitForRoom(feed);
                    }
                    return;
                }
                maxBytes = bytes.room(); // a page of 2 MB rows must not be read when there is room for two
                // while waiting for a hole, only look whether it filled: a page after it would be read for nothing
                limit = feed.holeSinceMillis != 0 ? 1 : Math.min(PAGE, room);
                if (policy.maxEventRate() > 0) {
                    limit = Math.min(limit, (int) refill(feed));
                    if (limit < 1) {
                        background.schedule(() -> read(feed), Math.max(10, 1000 / policy.maxEventRate()));
                        return;
                    }
                }
                from = feed.next;
                // asked before the read: a hole the read still shows is then not one a node committed meanwhile
                if (feed.holeSinceMillis != 0) feed.holeSettled = watermark.committedThrough(feed.holeMark);
                if (from > 0 && !feed.held.isEmpty()) {
                    feed.dropHeldBelow(from); // had already
                    if (!feed.held.isEmpty() && feed.held.firstKey() == from) {
                        // the live frames kept since the catch-up began continue exactly here: hand over to them
                        // now rather than read (and serialise again, per subscriber) what they already hold
                        goLive(feed);
                        if (queueHeld(feed) && !feed.catchingUp && !feed.held.isEmpty()) scheduleGapCheck(feed);
                        return;
                    }
                    if (!feed.held.isEmpty()) limit = Math.min(limit, feed.held.firstKey() - from); // read up to them
                }
            }
            List<StoredEvent> page;
            try {
                if (from == 0) { // a subscription without resume starts after what is stored now
                    int last = source.lastCounter(feed.jobId);
                    synchronized (this) {
                        if (feed.next == 0) feed.next = last + 1;
                    }
                    continue;
                }
                page = source.eventsFrom(feed.jobId, from, limit, maxBytes);
            } catch (RuntimeException e) {
                log.warn("could not read events of job {} from the store for a subscriber; retrying", feed.jobId, e);
                metrics.catchUpFailed();
                background.schedule(() -> read(feed), RETRY_MILLIS);
                return;
            }
            synchronized (this) {
                if (closeReason != null || feeds.get(feed.jobId) != feed) {
                    feed.reading = false;
                    return;
                }
                for (StoredEvent stored : page) {
                    int counter = stored.event().counter();
                    if (counter < feed.next) continue;
                    if (counter > feed.next && !holeDecided(feed, counter)) {
                        background.schedule(() -> read(feed), HOLE_POLL_MILLIS); // still reading: flag stays set
                        return;
                    }
                    EventFrame frame = new EventFrame(feed.jobId, counter, EventMessages.event(stored),
                            Timestamps.micros(stored.event().created()), 0);
                    if (!queueEvent(new Out(frame))) {
                        if (bytes.starvedByOwnUser()) { // no completion of ours will come to wake this feed
                            background.schedule(() -> read(feed), STARVED_RETRY_MILLIS); // flag stays set
                        } else {
                            waitForRoom(feed);
                        }
                        return;
                    }
                    metrics.replayed();
                    feed.next = counter + 1;
                    feed.holeSinceMillis = 0;
                    if (policy.maxEventRate() > 0) feed.tokens -= 1;
                }
                feed.dropHeldBelow(feed.next); // had from the store
                if (page.size() < limit) { // the store had nothing newer at the read
                    if (feed.liveHigh < feed.next) { // and nothing newer went by live since: live again
                        goLive(feed);
                        return;
                    }
                    if (!feed.held.isEmpty() && feed.held.firstKey() == feed.next) {
                        // what went by live since is kept from here on: continue with it, live again (a gap in it
                        // is an ordinary live gap)
                        goLive(feed);
                        if (queueHeld(feed) && !feed.catchingUp && !feed.held.isEmpty()) scheduleGapCheck(feed);
                        return;
                    }
                    if (!feed.held.isEmpty()) limit = Math.min(limit, feed.held.firstKey() - from); // read up to them
                }
            }
        }
    }

    /**
     * Stops reading until the drain has freed half the outbox. The first time in a catch-up this counts and logs as
     * the client being over capacity (a feed that overflowed live already did so in {@link Hub#deliverEvent}).
     */
    private void waitForRoom(Feed feed) {
        feed.reading = false;
        feed.waitingForRoom = true;
        waitingForRoom = true;
        if (!feed.overCapacityReported) {
            feed.overCapacityReported = true;
            hub.overCapacity(feed.group, 1);
        }
    }

    private static void goLive(Feed feed) {
        feed.catchingUp = false;
        feed.reading = false;
        feed.holeSinceMillis = 0;
        feed.overCapacityReported = false;
    }

    /** True (and forgotten) when {@code counter} was skipped as a hole of {@code feed}. */
    private static boolean wasSkipped(Feed feed, int counter) {
        Map.Entry<Integer, Integer> range = feed.skipped.floorEntry(counter);
        if (range == null || range.getValue() < counter) return false;
        feed.skipped.remove(range.getKey());
        if (range.getKey() < counter) feed.skipped.put(range.getKey(), counter - 1);
        if (counter < range.getValue()) feed.skipped.put(counter + 1, range.getValue());
        return true;
    }

    /** True when the hole before {@code present} is to be skipped now (policy in the class comment). */
    private boolean holeDecided(Feed feed, int present) {
        long now = clock.millis();
        if (feed.holeSinceMillis == 0) {
            feed.holeSinceMillis = now;
            feed.holeMark = watermark.mark();
            feed.holeSettled = watermark.committedThrough(feed.holeMark); // true at once only for the local queue
        }
        if (now - feed.holeSinceMillis < policy.holeWaitMillis()) return false;
        if (!feed.holeSettled) return false; // a node may still commit the missing counters: keep waiting for them
        int missing = present - feed.next;
        log.warn("job {}: counter {}{} still missing from the store after {} ms; skipped for a subscriber",
                feed.jobId, feed.next, missing > 1 ? " to " + (present - 1) : "", now - feed.holeSinceMillis);
        metrics.holesSkipped(missing);
        feed.skipped.put(feed.next, present - 1);
        if (feed.skipped.size() > SKIPPED_RANGES) feed.skipped.pollFirstEntry();
        feed.next = present;
        feed.holeSinceMillis = 0;
        return true;
    }

    private double refill(Feed feed) {
        long now = clock.millis();
        int rate = policy.maxEventRate();
        if (feed.tokensAtMillis == 0) {
            feed.tokens = rate;
        } else {
            feed.tokens = Math.min(rate, feed.tokens + (now - feed.tokensAtMillis) * rate / 1000.0);
        }
        feed.tokensAtMillis = now;
        return feed.tokens;
    }

    private boolean takeToken(Feed feed) {
        if (policy.maxEventRate() <= 0) return true;
        if (refill(feed) < 1) return false;
        feed.tokens -= 1;
        return true;
    }

    /** False when the outbox is full in messages or in bytes (see {@link OutboxBytes}); the caller catches up. */
    private boolean queueEvent(Out out) {
        if (queued.get() >= policy.capacity() || !bytes.take(out.bytes(), out.shared())) return false;
        queued.incrementAndGet();
        outbox.add(out);
        scheduleDrain();
        return true;
    }

    /** Queues a protocol reply ({@code accept}, errors, {@code groups_current}) behind the frames already queued. */
    void reply(String frame) {
        if (closeReason != null) return;
        control(frame);
    }

    private void control(String frame) {
        if (queued.incrementAndGet() > policy.capacity() + CONTROL_RESERVE) {
            queued.decrementAndGet();
            closeSlow();
            return;
        }
        outbox.add(new Out(frame));
        scheduleDrain();
    }

    /** Turns batched frames (several events as one JSON array) on or off for this connection. */
    void batch(boolean on) {
        batch = on;
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
            if (closeReason == null) control(Replies.groups(change));
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
                if (job > 0) feeds.remove(job);
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
                    startFeed(new Feed(job, last + 1)); // replaces a running one: the client said where it is
                } else if (!feeds.containsKey(job)) {
                    Integer stored = starts.get(job);
                    if (stored == null) {
                        startFeed(new Feed(job, 0));
                    } else { // nothing to read: live from the next counter (a batch committed meanwhile is a gap)
                        Feed feed = new Feed(job, stored + 1);
                        goLive(feed);
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

    private void startFeed(Feed feed) {
        feeds.put(feed.jobId, feed);
        startReading(feed);
    }

    /** Leaves all groups and drops what is queued; returns false when already closed. Does not touch the socket. */
    boolean close(String reason) {
        synchronized (this) {
            if (closeReason != null) return false;
            closeReason = reason;
            for (String group : groups) hub.leave(group, this);
            groups.clear();
            feeds.clear();
        }
        outbox.clear();
        queued.set(0);
        bytes.close();
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
        return queued.get();
    }

    private void closeSlow() {
        if (!close(SLOW_CONSUMER)) return;
        // via the executor: closing writes a frame, which is not the delivering thread's job
        executor.execute(() -> sender.close(TRY_AGAIN_LATER, "slow consumer"));
    }

    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) executor.execute(this::drain);
    }

    private void drain() {
        while (true) {
            if (closeReason != null) return; // stays "draining" for good: no more sends after a close
            // batched: one frame at a time, so that whatever queues meanwhile goes out as the next array
            int window = batch ? 1 : WINDOW;
            if (sending.get() >= window) {
                draining.set(false);
                // a completion between the check and set(false) saw a drain running and scheduled none: look again
                if (sending.get() >= window || !draining.compareAndSet(false, true)) return;
                continue;
            }
            Out first = outbox.poll();
            if (first == null) {
                draining.set(false);
                // an offer between poll() and set(false) saw a drain running and scheduled none: look again
                if (outbox.isEmpty() || !draining.compareAndSet(false, true)) return;
                continue;
            }
            List<Out> frames = List.of(first);
            byte[] utf8 = first.event() == null ? null : first.event().utf8();
            if (batch && first.event() != null) {
                frames = new ArrayList<>();
                frames.add(first);
                utf8 = batchFrom(first, frames);
            }
            queued.addAndGet(-frames.size());
            if (waitingForRoom && roomForReaders()) resumeReaders();
            sending.incrementAndGet();
            List<Out> sent = frames;
            // events go out as the bytes encoded once for all subscribers; replies are rare and sent as text
            if (utf8 != null) sender.send(utf8, () -> sent(sent), this::failed);
            else sender.send(first.text(), () -> sent(sent), this::failed);
        }
    }

    /**
     * Several queued events as one JSON array, in queue (so per job, counter) order; stops at a non-event. Joined
     * from the events' encoded bytes: JSON's brackets and commas are the same one byte in UTF-8.
     */
    private byte[] batchFrom(Out first, List<Out> frames) {
        int length = first.event().utf8().length + 2;
        while (frames.size() < BATCH_EVENTS && length < BATCH_CHARS) {
            Out next = outbox.peek(); // only the drain polls, so what it peeks is what it polls
            if (next == null || next.event() == null) break;
            outbox.poll();
            frames.add(next);
            length += next.event().utf8().length + 1;
        }
        byte[] array = new byte[length];
        array[0] = '[';
        int at = 1;
        for (Out out : frames) {
            if (at > 1) array[at++] = ',';
            byte[] event = out.event().utf8();
            System.arraycopy(event, 0, array, at, event.length);
            at += event.length;
        }
        array[at] = ']';
        return array;
    }

    /** Readers that stopped for room go on once half the outbox is free, in messages and in bytes. */
    private boolean roomForReaders() {
        // holding nothing, it goes on even when its user's budget is spent: the reader then looks again on a timer
        return queued.get() <= policy.capacity() / 2 && (!bytes.blocked() || bytes.held() == 0);
    }

    private void resumeReaders() {
        synchronized (this) {
            waitingForRoom = false;
            for (Feed feed : feeds.values()) {
                if (feed.waitingForRoom && feed.catchingUp) startReading(feed);
            }
        }
    }

    /** A send completed (possibly inside {@code send} itself, on the drain's stack: the drain then just loops on). */
    private void sent(List<Out> frames) {
        long writtenMicros = micros();
        int events = 0;
        long shared = 0;
        long own = 0;
        for (Out out : frames) {
            EventFrame event = out.event();
            if (out.shared()) shared += out.bytes();
            else own += out.bytes();
            if (event != null) {
                events++;
                metrics.written(event, writtenMicros);
            }
        }
        metrics.sent(events);
        // only now: until Jetty wrote it, the message is in memory (Jetty's queue)
        if (shared > 0) bytes.give(shared, true);
        if (own > 0) bytes.give(own, false);
        sending.decrementAndGet();
        if (waitingForRoom && roomForReaders()) resumeReaders();
        if (!outbox.isEmpty()) scheduleDrain();
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
            if (feed.catchingUp) jobs.add(job);
        });
        return jobs;
    }

    /** Per job this subscriber follows: the next counter it will queue; for stats and tests. */
    synchronized Map<Long, Integer> positions() {
        Map<Long, Integer> positions = new LinkedHashMap<>();
        feeds.forEach((job, feed) -> positions.put(job, feed.next));
        return positions;
    }
}
