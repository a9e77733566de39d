package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.EventSource;
import io.jobstream.broadcast.Hub;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import io.jobstream.queue.Watermark;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's events for one subscriber: the next counter its client must get, the live frames held while a gap is
 * open, the catch-up from the store, and the holes given up on.
 *
 * <p><b>Sequencing.</b> A live event below {@code next} is a duplicate and dropped; one above it is held (a gap:
 * another emitter's event is still being committed); the one equal to it is queued, then whatever held events follow
 * it. A gap still open after {@code gapWait}, too many held events, a full outbox (the client is slow) or the event
 * rate limit switch the feed to <em>catch-up</em>: live frames of the job are no longer queued (the newest
 * {@code holdLimit} are kept aside, and the highest live counter remembered) and the background reader pages the
 * job's events from the store, counter after counter, as the outbox drains. When a read finds nothing newer than what
 * it queued, the feed is live again if no newer live event went by meanwhile, or if the live frames kept aside
 * continue exactly where the read ended (it then goes on with those). Since the receiver publishes only committed
 * events, nothing falls between. A gap at the end of a job shows no later frame: when the job's EOF commits with a
 * final counter the feed has not reached, it waits {@code gapWait} and catches up the same way ({@link #ended}).
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
 * <p><b>Bounds.</b> Held events ≤ {@code holdLimit} and {@code holdBytes}; the store reader asks for no more events
 * and bytes than the {@link Outbox} has room for, and stops until it has.
 *
 * <p>Why one file of over 500 lines: live, held, catch-up and hole waiting are one state machine over the same few
 * fields (next, held, liveHigh, the hole's start), and every transition reads several of them under the one lock;
 * split into files, each part would need the others' fields and the rules above would be spread over them.
 *
 * <p>Threading: all state is guarded by the subscriber's lock ({@link Shared#lock}): the delivering threads call
 * {@link #offer} holding it, and the reader and the delayed checks, which run on {@link Background}, take it.
 * Ownership: the subscriber's {@link Subscriptions} create a feed per subscribed job and {@link #stop} it when the
 * job is left, replaced or the connection closes; a stopped feed queues nothing more.
 */
final class JobFeed {
    private static final Logger log = LoggerFactory.getLogger(JobFeed.class);

    /** Events read from the store per query. */
    static final int PAGE = 500;
    /** Skipped counter ranges remembered per job, to let their late events through. */
    static final int SKIPPED_RANGES = 256;
    /** How often a hole is looked up again while waiting for it. */
    static final long HOLE_POLL_MILLIS = 100;
    /** After a failed store read. */
    static final long RETRY_MILLIS = 1_000;
    /**
     * How often a feed whose connection holds nothing, while its user's other connections hold the user's whole
     * byte budget, looks again: no completion of its own will wake it.
     */
    static final long STARVED_RETRY_MILLIS = 250;

    /**
     * What the delivering side needs beyond the outbox: when to give up on gaps and holes, the rate limit.
     *
     * @param holdBytes most bytes of live frames kept aside per job (they are shared with the job's other
     *                  subscribers, but a stalled subscriber would keep them alive: 10,000 frames of 2 MB are 20 GB)
     */
    record Policy(
            int capacity, int holdLimit, long gapWaitMillis, long holeWaitMillis, int maxEventRate, long holdBytes) {
        Policy(int capacity, int holdLimit, long gapWaitMillis, long holeWaitMillis, int maxEventRate) {
            this(capacity, holdLimit, gapWaitMillis, holeWaitMillis, maxEventRate, Long.MAX_VALUE / 4);
        }
    }

    /** Runs store reads and delayed checks off the delivering thread. */
    interface Background {
        void execute(Runnable task);

        void schedule(Runnable task, long delayMillis);
    }

    /**
     * What every feed of one subscriber shares.
     *
     * @param lock      the subscriber's lock, which guards its feeds
     * @param watermark how far the queue has committed: a hole is skipped only once what it held then is committed
     * @param recent    the job's live frames of the last seconds, read before the store
     */
    record Shared(
            Object lock,
            Outbox outbox,
            Policy policy,
            Background background,
            EventSource source,
            Hub hub,
            WsMetrics metrics,
            Clock clock,
            Watermark watermark,
            RecentFrames recent) {}

    private final Shared shared;
    private final Object lock;
    private final Outbox outbox;
    private final Policy policy;
    final long jobId;
    final String group;
    /** The next counter to queue; 0 until the start position is known (read from the store). */
    private int next;
    /** Catching up from the store: live frames are not queued, only the highest counter remembered. */
    private boolean catchingUp = true;

    private int liveHigh;
    /** Live frames kept aside, by counter; change it only through hold/pollHeld/dropHeldBelow (bytes). */
    private final TreeMap<Integer, Outbox.Out> held = new TreeMap<>();

    private long heldBytes;
    /** Counters skipped as holes: start to end, inclusive. */
    private final TreeMap<Integer, Integer> skipped = new TreeMap<>();

    private boolean gapCheckPending;
    private long holeSinceMillis;
    /** The queue's position when the hole was first seen, and whether it was committed through it before the read. */
    private long holeMark;

    private boolean holeSettled;
    /** A store read is scheduled or running (at most one per feed). */
    private boolean reading;

    private boolean waitingForRoom;
    /** This catch-up was already logged and counted as over capacity. */
    private boolean overCapacityReported;

    private double tokens;
    private long tokensAtMillis;
    /** Left, replaced or closed: nothing more is queued, and the reader and checks end. */
    private boolean stopped;

    /** @param next the first counter to queue, or 0 to start after the last event stored when the reader looks */
    JobFeed(Shared shared, long jobId, int next) {
        this.shared = shared;
        this.lock = shared.lock();
        this.outbox = shared.outbox();
        this.policy = shared.policy();
        this.jobId = jobId;
        this.group = EventMessages.jobEventsGroup(jobId);
        this.next = next;
    }

    int next() {
        return next;
    }

    boolean catchingUp() {
        return catchingUp;
    }

    /** Under the lock: the subscriber no longer follows this feed. */
    void stop() {
        stopped = true;
    }

    /** Under the lock: starts reading from the store (a new feed, or a resume). */
    void start() {
        startReading();
    }

    /** Under the lock: starts live at {@link #next} (a new feed whose start position is known). */
    void startLive() {
        goLive();
    }

    /** Under the lock: room in the outbox again; a reader that stopped for it goes on. */
    void roomFreed() {
        if (waitingForRoom && catchingUp) startReading();
    }

    /** Under the lock: one live event of this job; false when the outbox was full (the feed then catches up). */
    boolean offer(EventFrame frame) {
        int counter = frame.counter();
        if (next > 0 && counter < next && wasSkipped(counter)) {
            // a hole's event after all: late and out of order, but not lost
            shared.metrics().late();
            if (!outbox.offerEvent(new Outbox.Out(frame))) catchUp(WsMetrics.CATCHUP_OVERFLOW);
            return true;
        }
        if (catchingUp) {
            // the store has it and the reader will get there; the newest live frames are kept (bounded) so
            // that the reader can hand over to them once it reaches them, instead of chasing the live edge
            liveHigh = Math.max(liveHigh, counter);
            if (next > 0 && counter >= next) hold(new Outbox.Out(frame), policy.holdLimit(), policy.holdBytes());
            return true;
        }
        if (counter < next || held.containsKey(counter)) {
            shared.metrics().duplicate();
            return true;
        }
        Outbox.Out out = new Outbox.Out(frame);
        if (counter > next) {
            hold(out, Integer.MAX_VALUE, Long.MAX_VALUE);
            if (held.size() > policy.holdLimit() || heldBytes > policy.holdBytes()) {
                catchUp(WsMetrics.CATCHUP_GAP);
            } else {
                scheduleGapCheck();
            }
            return true;
        }
        return queueLive(out) && queueHeld();
    }

    /**
     * Under the lock: the job's EOF committed with {@code finalCounter}. A live feed that has not queued up to it yet
     * waits {@code gapWait} (the last frames may still be on their way from another node) and then reads the rest from
     * the store: with no later frame to come, a lost live frame at the end of a job would otherwise never be noticed.
     */
    void ended(int finalCounter) {
        if (stopped || catchingUp || next == 0 || next > finalCounter) return;
        // liveHigh stays: the final counter's events may not be committed yet (another node's), and a read that finds
        // nothing newer must then go live again rather than read on
        shared.background().schedule(() -> tailCheck(finalCounter), policy.gapWaitMillis());
    }

    /**
     * Under the lock: frames may have been missed (a cluster node began receiving this job's relay just now). A live
     * feed reads from {@link #next} in the store and goes live again when it finds nothing newer; not counted as a
     * catch-up, as nothing is known to be missing.
     */
    void recheck() {
        if (stopped || catchingUp || next == 0) return;
        readFromStore();
    }

    private void tailCheck(int finalCounter) {
        synchronized (lock) {
            if (stopped || catchingUp || next > finalCounter) return;
            catchUp(WsMetrics.CATCHUP_GAP);
        }
    }

    /** Keeps {@code out} aside; the oldest go beyond {@code limit} frames or {@code maxBytes} (the newest stays). */
    private void hold(Outbox.Out out, int limit, long maxBytes) {
        Outbox.Out replaced = held.put(out.event().counter(), out);
        heldBytes += out.bytes() - (replaced == null ? 0 : replaced.bytes());
        while (held.size() > 1 && (held.size() > limit || heldBytes > maxBytes)) pollHeld();
    }

    private Map.Entry<Integer, Outbox.Out> pollHeld() {
        Map.Entry<Integer, Outbox.Out> first = held.pollFirstEntry();
        if (first != null) heldBytes -= first.getValue().bytes();
        return first;
    }

    private void dropHeldBelow(int counter) {
        while (!held.isEmpty() && held.firstKey() < counter) pollHeld();
    }

    /** Queues the next live event; false when the outbox was full (the feed then catches up). */
    private boolean queueLive(Outbox.Out out) {
        if (!takeToken()) {
            liveHigh = Math.max(liveHigh, out.event().counter());
            catchUp(WsMetrics.CATCHUP_RATE);
            return true;
        }
        if (!outbox.offerEvent(out)) {
            liveHigh = Math.max(liveHigh, out.event().counter());
            // kept with the live frames that follow, so the reader can hand over right here (see read)
            hold(out, policy.holdLimit(), policy.holdBytes());
            catchUp(WsMetrics.CATCHUP_OVERFLOW);
            overCapacityReported = true; // the hub logs and counts this one
            return false;
        }
        next = out.event().counter() + 1;
        return true;
    }

    private boolean queueHeld() {
        while (!catchingUp && !held.isEmpty() && held.firstKey() <= next) {
            Map.Entry<Integer, Outbox.Out> first = pollHeld();
            if (first.getKey() < next) continue;
            if (!queueLive(first.getValue())) return false;
        }
        return true;
    }

    private void scheduleGapCheck() {
        if (gapCheckPending) return;
        gapCheckPending = true;
        int waitingFor = next;
        shared.background().schedule(() -> gapCheck(waitingFor), policy.gapWaitMillis());
    }

    /** A gap that is still open {@code gapWait} after it appeared is filled from the store. */
    private void gapCheck(int waitingFor) {
        synchronized (lock) {
            gapCheckPending = false;
            if (stopped || catchingUp || held.isEmpty()) return;
            if (next == waitingFor) {
                catchUp(WsMetrics.CATCHUP_GAP);
            } else { // that gap closed, a later one is open: give it its own wait
                gapCheckPending = true;
                int now = next;
                shared.background().schedule(() -> gapCheck(now), policy.gapWaitMillis());
            }
        }
    }

    /** Switches to reading from the store; held live frames stay for the handover back to live. */
    private void catchUp(String reason) {
        shared.recent().want(jobId); // what it will read back is delivered from now on: keep it
        shared.metrics().catchUp(reason);
        readFromStore();
    }

    private void readFromStore() {
        if (!held.isEmpty()) liveHigh = Math.max(liveHigh, held.lastKey());
        catchingUp = true;
        startReading();
    }

    private void startReading() {
        if (reading) return;
        reading = true;
        waitingForRoom = false;
        shared.background().execute(this::read);
    }

    /**
     * The store reader: pages events from {@code next} into the outbox while there is room, waits for holes, and
     * hands the feed back to the live path once it has caught up.
     */
    private void read() {
        while (true) {
            Read read;
            synchronized (lock) {
                read = nextRead();
            }
            if (read == null) return;
            if (read.from() == 0) { // a subscription without resume starts after what is stored now
                if (!startAfterStored()) return;
                continue;
            }
            // the frames delivered live a moment ago, if they still go back to here: no read, no serialising
            List<EventFrame> recent = shared.recent().from(jobId, read.from(), read.limit(), read.maxBytes());
            if (!recent.isEmpty()) {
                synchronized (lock) {
                    if (!queueRecent(recent)) return;
                }
                continue;
            }
            List<StoredEvent> page = readStore(read);
            if (page == null) return;
            synchronized (lock) {
                if (!queuePage(page, read.limit())) return;
            }
        }
    }

    /** One read: events from counter {@code from} (0: the start position is not known yet), at most so many. */
    private record Read(int from, int limit, long maxBytes) {}

    /**
     * Under the lock: what to read next, or null when the reader stops here (stopped, live again, handed over to the
     * frames kept aside, or waiting for room, a token or a retry, each of which starts it again).
     */
    private Read nextRead() {
        OutboxBytes.Account bytes = outbox.bytes();
        if (stopped || !catchingUp) {
            reading = false;
            return null;
        }
        int room = outbox.room();
        if (room < Math.min(PAGE, (outbox.capacity() + 1) / 2) || bytes.blocked()) {
            waitForRoomOrRetry(bytes);
            return null;
        }
        long maxBytes = bytes.room(); // a page of 2 MB rows must not be read when there is room for two
        // while waiting for a hole, only look whether it filled: a page after it would be read for nothing
        int limit = holeSinceMillis != 0 ? 1 : Math.min(PAGE, room);
        if (policy.maxEventRate() > 0) {
            limit = Math.min(limit, (int) refill());
            if (limit < 1) {
                shared.background().schedule(this::read, Math.max(10, 1000 / policy.maxEventRate()));
                return null;
            }
        }
        int from = next;
        // asked before the read: a hole the read still shows is then not one a node committed meanwhile
        if (holeSinceMillis != 0) holeSettled = shared.watermark().committedThrough(holeMark);
        if (from > 0 && !held.isEmpty()) {
            dropHeldBelow(from); // had already
            if (!held.isEmpty() && held.firstKey() == from) {
                // the live frames kept since the catch-up began continue exactly here: hand over to them
                // now rather than read (and serialise again, per subscriber) what they already hold
                handOverToHeld();
                return null;
            }
            if (!held.isEmpty()) limit = Math.min(limit, held.firstKey() - from); // read up to them
        }
        return new Read(from, limit, maxBytes);
    }

    /** Sets {@link #next} after the last event stored now; false after a failed store read (retried later). */
    private boolean startAfterStored() {
        try {
            int last = shared.source().lastCounter(jobId);
            synchronized (lock) {
                if (next == 0) next = last + 1;
            }
            return true;
        } catch (RuntimeException e) {
            storeFailed(e);
            return false;
        }
    }

    /** The store's page for {@code read}, or null after a failed read (retried later). */
    private List<StoredEvent> readStore(Read read) {
        try {
            return shared.source().eventsFrom(jobId, read.from(), read.limit(), read.maxBytes());
        } catch (RuntimeException e) {
            storeFailed(e);
            return null;
        }
    }

    private void storeFailed(RuntimeException e) {
        log.warn("could not read events of job {} from the store for a subscriber; retrying", jobId, e);
        shared.metrics().catchUpFailed();
        shared.background().schedule(this::read, RETRY_MILLIS);
    }

    /**
     * Under the lock: queues a page the store answered to a read of {@code limit} events; false when the reader is to
     * stop now (stopped, waiting for room or a hole, or live again), true to read on.
     */
    private boolean queuePage(List<StoredEvent> page, int limit) {
        if (stopped) {
            reading = false;
            return false;
        }
        for (StoredEvent stored : page) {
            int counter = stored.event().counter();
            if (counter < next) continue;
            if (counter > next && !holeDecided(counter)) {
                shared.background().schedule(this::read, HOLE_POLL_MILLIS); // still reading: flag stays set
                return false;
            }
            EventFrame frame = new EventFrame(
                    jobId,
                    counter,
                    EventMessages.event(stored),
                    Timestamps.micros(stored.event().created()),
                    0);
            if (!queueRead(frame)) return false;
        }
        dropHeldBelow(next); // had from the store
        if (page.size() < limit) { // the store had nothing newer at the read
            if (liveHigh < next) { // and nothing newer went by live since: live again
                goLive();
                return false;
            }
            if (!held.isEmpty() && held.firstKey() == next) {
                // what went by live since is kept from here on: continue with it, live again (a gap in it
                // is an ordinary live gap)
                handOverToHeld();
                return false;
            }
        }
        return true;
    }

    /**
     * Under the lock: queues frames the recent ones answered (consecutive from the read's {@code from}); false when
     * the reader is to stop now (stopped, or waiting for room), true to read on. Unlike a store page, a short answer
     * says nothing about what is stored: the next read decides.
     */
    private boolean queueRecent(List<EventFrame> frames) {
        if (stopped) {
            reading = false;
            return false;
        }
        for (EventFrame frame : frames) {
            int counter = frame.counter();
            if (counter < next) continue;
            if (counter > next) break; // next moved while reading (it does not while catching up): read again
            // the same frame the live subscribers got: its last hop is timed from its delivery, the wait included
            if (!queueRead(frame)) return false;
        }
        dropHeldBelow(next);
        return true;
    }

    /** Under the lock: queues the event at {@link #next} that a read found; false when the outbox is full. */
    private boolean queueRead(EventFrame frame) {
        if (!outbox.offerEvent(new Outbox.Out(frame))) {
            waitForRoomOrRetry(outbox.bytes());
            return false;
        }
        shared.metrics().replayed();
        next = frame.counter() + 1;
        holeSinceMillis = 0;
        if (policy.maxEventRate() > 0) tokens -= 1;
        return true;
    }

    /** Live again from the frames kept aside, which continue exactly at {@link #next}. */
    private void handOverToHeld() {
        goLive();
        if (queueHeld() && !catchingUp && !held.isEmpty()) scheduleGapCheck();
    }

    private void waitForRoomOrRetry(OutboxBytes.Account bytes) {
        if (bytes.starvedByOwnUser()) { // no completion of ours will come to wake this feed
            shared.background().schedule(this::read, STARVED_RETRY_MILLIS); // flag stays set
        } else {
            waitForRoom();
        }
    }

    /**
     * Stops reading until the drain has freed half the outbox. The first time in a catch-up this counts and logs as
     * the client being over capacity (a feed that overflowed live already did so in {@link Hub#deliverEvent}).
     */
    private void waitForRoom() {
        reading = false;
        waitingForRoom = true;
        outbox.awaitRoom();
        if (!overCapacityReported) {
            overCapacityReported = true;
            shared.hub().overCapacity(group, 1);
        }
    }

    private void goLive() {
        catchingUp = false;
        reading = false;
        holeSinceMillis = 0;
        overCapacityReported = false;
    }

    /** True (and forgotten) when {@code counter} was skipped as a hole. */
    private boolean wasSkipped(int counter) {
        Map.Entry<Integer, Integer> range = skipped.floorEntry(counter);
        if (range == null || range.getValue() < counter) return false;
        skipped.remove(range.getKey());
        if (range.getKey() < counter) skipped.put(range.getKey(), counter - 1);
        if (counter < range.getValue()) skipped.put(counter + 1, range.getValue());
        return true;
    }

    /** True when the hole before {@code present} is to be skipped now (policy in the class comment). */
    private boolean holeDecided(int present) {
        long now = shared.clock().millis();
        if (holeSinceMillis == 0) {
            holeSinceMillis = now;
            holeMark = shared.watermark().mark();
            holeSettled = shared.watermark().committedThrough(holeMark); // true at once only for the local queue
        }
        if (now - holeSinceMillis < policy.holeWaitMillis()) return false;
        if (!holeSettled) return false; // a node may still commit the missing counters: keep waiting for them
        int missing = present - next;
        log.warn(
                "job {}: counter {}{} still missing from the store after {} ms; skipped for a subscriber",
                jobId,
                next,
                missing > 1 ? " to " + (present - 1) : "",
                now - holeSinceMillis);
        shared.metrics().holesSkipped(missing);
        skipped.put(next, present - 1);
        if (skipped.size() > SKIPPED_RANGES) skipped.pollFirstEntry();
        next = present;
        holeSinceMillis = 0;
        return true;
    }

    private double refill() {
        long now = shared.clock().millis();
        int rate = policy.maxEventRate();
        if (tokensAtMillis == 0) {
            tokens = rate;
        } else {
            tokens = Math.min(rate, tokens + (now - tokensAtMillis) * rate / 1000.0);
        }
        tokensAtMillis = now;
        return tokens;
    }

    private boolean takeToken() {
        if (policy.maxEventRate() <= 0) return true;
        if (refill() < 1) return false;
        tokens -= 1;
        return true;
    }
}
