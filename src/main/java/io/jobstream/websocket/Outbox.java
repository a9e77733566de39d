package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.event.Timestamps;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One connection's bounded queue of outgoing messages and the drain that hands them to the network.
 *
 * <p>Design note. Many threads offer: the receiver thread (live events, through the hub), the store readers
 * (catch-up), the connection's websocket thread (replies) and the jobs-message lookups. None of them may wait for the
 * network, or for each other beyond a few atomic operations, so the queue is a {@link ConcurrentLinkedQueue} with a
 * count beside it, and no offer takes a lock. One drainer at a time: an offer that finds no drain running (the
 * {@code draining} flag, set by compare-and-set) hands one to the sender executor; that drain hands a flush to the
 * {@link FrameSender} and stops while it is unwritten, and its completion restarts it when frames are waiting. Jetty
 * often completes a send inside {@code send} itself: the drain is then still running, so the completion only counts
 * and the loop goes on, instead of recursing once per flush. Whenever a drain clears its flag it looks once more (an
 * offer or a completion may have come between its last look and the clear, seen the flag still set and started
 * nothing), and takes the flag back if there is work; so a frame is never left queued with no drain coming. Because
 * only the drain polls, what it peeks is what it polls (coalescing relies on that), and frames go out in the order
 * they were queued: per offering thread, in offer order.
 *
 * <p>Coalescing. One flush in flight, the Disruptor way: whatever queued while the last one was being written goes
 * out together as the next one, up to {@link #BATCH_EVENTS} events and about {@link #BATCH_CHARS} bytes. Events a
 * flush carries are still one websocket frame each (AWX's protocol), in order, handed to the sender as one
 * {@link FrameSender#sendEvents} so that the per-write costs (Jetty's flusher round, the socket write, the
 * completion, our bookkeeping) are paid once per flush rather than once per frame; with {@code "batch": true} they go
 * as one JSON array in one frame instead. A reply or jobs message is a flush of its own (they are rare), and ends the
 * events' flush before it, so the order holds. Under a light load a flush carries one frame and costs what a frame
 * did; the more frames queue, the less each costs, which is when it matters.
 *
 * <p>Bounds. Event messages queued ≤ {@code capacity}, and their bytes (queued, or handed to the sender and not yet
 * written) within the connection's, its user's and the node's budgets ({@link OutboxBytes}): an event that does not
 * fit is refused and its feed catches up from the store later, so a refusal loses nothing. A flush in flight holds
 * its events' bytes until it is written, so the bound counts them; while a socket accepts nothing, that one flush
 * stays in flight, the queue behind it fills to these bounds and further events are refused as above (the flush
 * itself is bounded by {@link #BATCH_EVENTS} and {@link #BATCH_CHARS}, Jetty's copy of it by its output buffer). Protocol replies and jobs
 * messages may use {@link #CONTROL_RESERVE} more; one beyond even that is refused too, and the owner closes the
 * connection (the hard safety net; a socket that accepts no bytes at all is closed by Jetty's idle timeout). Bytes
 * are given back in the completion, since until then the message is still in memory (Jetty's queue). Readers that
 * stopped for lack of room ({@link #awaitRoom}) are woken through {@link Owner#roomFreed} once half the outbox is free
 * again.
 *
 * <p>Threading: every method may be called from any thread. Ownership: the {@link Subscriber} creates it with its
 * connection and closes it; after {@link #close} nothing more is sent.
 */
final class Outbox {
    /** Room for replies and jobs messages beyond the event capacity, so a client in catch-up still gets them. */
    static final int CONTROL_RESERVE = 1_000;
    /** Most events per flush (as separate frames, or as one batched frame), and roughly most bytes. */
    static final int BATCH_EVENTS = 500;

    static final int BATCH_CHARS = 1 << 20;

    /** A queued message; {@code bytes} is what an event charges to the byte budget (0 for replies). */
    record Out(String text, EventFrame event, long bytes) {
        /**
         * What one queued event costs beside its frame: this record and the queue's node (56 bytes measured on a
         * 64-bit JVM with compressed pointers), rounded up. A live frame is one object for every subscriber of its
         * job, but each queued entry for it is one connection's alone, so the entries are charged to the user and the
         * node too: without that, 10,000 connections each queueing 10,000 shared frames held 2.4 million entries
         * (136 MB) that no bound saw, and a 512 MB node spent its time in the garbage collector (bench/connections).
         */
        static final long ENTRY_BYTES = 64;

        /** An event: its text and its UTF-8 bytes are both in memory until written, and its queue entry. */
        Out(EventFrame event) {
            this(event.text(), event, (long) event.text().length() + event.utf8().length + ENTRY_BYTES);
        }

        Out(String reply) {
            this(reply, null, 0);
        }

        /** A live frame: one object for all the job's subscribers (a replayed one was built for this one alone). */
        boolean shared() {
            return event != null && event.live();
        }

        /** The part of {@link #bytes} charged to the user and the node as well as to the connection. */
        long toAll() {
            return shared() ? ENTRY_BYTES : bytes;
        }
    }

    /** What the outbox tells the connection that owns it; called on drain and completion threads. */
    interface Owner {
        /** Half the outbox is free again after {@link #awaitRoom}; the owner calls {@link #roomAwaited} under its lock. */
        void roomFreed();

        /** A send failed: the connection is broken. */
        void sendFailed(Throwable cause);
    }

    private final FrameSender sender;
    private final int capacity;
    private final Executor executor;
    private final OutboxBytes.Account bytes;
    private final WsMetrics metrics;
    private final Clock clock;
    private final Owner owner;

    private final ConcurrentLinkedQueue<Out> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicInteger sending = new AtomicInteger(); // frames handed to Jetty, not yet completed
    private volatile boolean waitingForRoom; // some reader stopped because the outbox was full
    private volatile boolean batch;
    private volatile boolean closed;

    /**
     * @param executor where drains run (the endpoint's sender threads)
     * @param bytes    this connection's share of the node's outbox bytes; closed with the outbox
     */
    Outbox(
            FrameSender sender,
            int capacity,
            Executor executor,
            OutboxBytes.Account bytes,
            WsMetrics metrics,
            Clock clock,
            Owner owner) {
        this.sender = sender;
        this.capacity = capacity;
        this.executor = executor;
        this.bytes = bytes;
        this.metrics = metrics;
        this.clock = clock;
        this.owner = owner;
    }

    /** Queues an event; false when the outbox is full in messages or in bytes (the caller catches up). */
    boolean offerEvent(Out out) {
        if (queued.get() >= capacity || !bytes.take(out.bytes(), out.toAll())) return false;
        queued.incrementAndGet();
        queue.add(out);
        scheduleDrain();
        return true;
    }

    /** Queues a reply or jobs message behind what is queued; false when even the reserve is full (close the connection). */
    boolean offerControl(String frame) {
        if (queued.incrementAndGet() > capacity + CONTROL_RESERVE) {
            queued.decrementAndGet();
            return false;
        }
        queue.add(new Out(frame));
        scheduleDrain();
        return true;
    }

    /** Turns batched frames (several events as one JSON array) on or off. */
    void batch(boolean on) {
        batch = on;
    }

    int queued() {
        return queued.get();
    }

    /** Events that may still be queued before the message bound. */
    int room() {
        return capacity - queued.get();
    }

    int capacity() {
        return capacity;
    }

    OutboxBytes.Account bytes() {
        return bytes;
    }

    /** A reader stopped for room: {@link Owner#roomFreed} once half the outbox is free. */
    void awaitRoom() {
        waitingForRoom = true;
        // The reader looked (full) under its owner's lock, but the completions that free the room take no lock: one
        // that came between that look and this flag saw no reader waiting and woke none, and if it was the last one
        // (nothing more in flight, no live traffic) none ever would. So look once more now that the flag is set; a
        // wake too many only makes the reader look again. (Found by EventStreamIT's slow reader, which drains fast.)
        if (roomForReaders()) executor.execute(owner::roomFreed);
    }

    /** The owner has woken its waiting readers (called under the owner's lock, as {@link #awaitRoom} is). */
    void roomAwaited() {
        waitingForRoom = false;
    }

    /** Drops what is queued and gives its bytes back; nothing is sent afterwards. Idempotent. */
    void close() {
        closed = true;
        queue.clear();
        queued.set(0);
        bytes.close();
    }

    private void scheduleDrain() {
        if (draining.compareAndSet(false, true)) executor.execute(this::drain);
    }

    private void drain() {
        while (true) {
            if (closed) return; // stays "draining" for good: no more sends after a close
            if (sending.get() > 0) { // one flush in flight: what queues meanwhile goes out with the next
                draining.set(false);
                // a completion between the check and set(false) saw a drain running and scheduled none: look again
                if (sending.get() > 0 || !draining.compareAndSet(false, true)) return;
                continue;
            }
            Out first = queue.poll();
            if (first == null) {
                draining.set(false);
                // an offer between poll() and set(false) saw a drain running and scheduled none: look again
                if (queue.isEmpty() || !draining.compareAndSet(false, true)) return;
                continue;
            }
            List<Out> frames = first.event() == null ? List.of(first) : eventsFrom(first);
            queued.addAndGet(-frames.size());
            if (waitingForRoom && roomForReaders()) owner.roomFreed();
            sending.incrementAndGet();
            send(frames);
        }
    }

    /** Hands one flush to the sender; its completion is {@link #sent}. */
    private void send(List<Out> frames) {
        Out first = frames.get(0);
        boolean array = batch && first.event() != null;
        Runnable done = () -> sent(frames, array ? 1 : frames.size());
        // events go out as the bytes encoded once for all subscribers; replies are rare and sent as text
        if (first.event() == null) sender.send(first.text(), done, owner::sendFailed);
        else if (array) sender.send(array(frames), done, owner::sendFailed);
        else if (frames.size() == 1) sender.sendEvent(first.event(), done, owner::sendFailed);
        else sender.sendEvents(eventFrames(frames), done, owner::sendFailed);
    }

    /** {@code first} and the events queued right behind it, up to a flush's bounds; stops at a non-event. */
    private List<Out> eventsFrom(Out first) {
        List<Out> frames = new ArrayList<>();
        frames.add(first);
        int length = first.event().utf8().length + 2;
        while (frames.size() < BATCH_EVENTS && length < BATCH_CHARS) {
            Out next = queue.peek(); // only the drain polls, so what it peeks is what it polls
            if (next == null || next.event() == null) break;
            queue.poll();
            frames.add(next);
            length += next.event().utf8().length + 1;
        }
        return frames;
    }

    private static List<EventFrame> eventFrames(List<Out> frames) {
        List<EventFrame> events = new ArrayList<>(frames.size());
        for (Out out : frames) events.add(out.event());
        return events;
    }

    /**
     * Several queued events as one JSON array, in queue (so per job, counter) order. Joined from the events' encoded
     * bytes: JSON's brackets and commas are the same one byte in UTF-8.
     */
    private static byte[] array(List<Out> frames) {
        int length = 1;
        for (Out out : frames) length += out.event().utf8().length + 1;
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
    boolean roomForReaders() {
        // holding nothing, it goes on even when its user's budget is spent: the reader then looks again on a timer
        return queued.get() <= capacity / 2 && (!bytes.blocked() || bytes.held() == 0);
    }

    /** A flush completed (possibly inside {@code send} itself, on the drain's stack: the drain then just loops on). */
    private void sent(List<Out> frames, int wireFrames) {
        long writtenMicros = Timestamps.micros(clock.instant());
        int events = 0;
        long held = 0;
        long toAll = 0;
        for (Out out : frames) {
            EventFrame event = out.event();
            held += out.bytes();
            toAll += out.toAll();
            if (event != null) {
                events++;
                metrics.written(event, writtenMicros);
            }
        }
        metrics.sent(wireFrames, events);
        // only now: until Jetty wrote it, the message is in memory (Jetty's queue)
        if (held > 0) bytes.give(held, toAll);
        sending.decrementAndGet();
        if (waitingForRoom && roomForReaders()) owner.roomFreed();
        if (!queue.isEmpty()) scheduleDrain();
    }
}
