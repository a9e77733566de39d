package io.jobstream.queue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The embedded default: an in-process bounded FIFO. A lock (not a lock-free structure) is enough here: producers
 * hold it only to append a request's events, and the single receiver takes a whole batch per acquisition.
 * Durability comes from the ingest contract instead: a request is answered 2xx only after its events commit,
 * so a crash loses only unanswered requests, which emitters retry.
 */
public final class MemoryEventQueue implements EventQueue {
    private final int capacity;
    private final long maxBytes;
    private final ArrayDeque<Envelope> items = new ArrayDeque<>();
    private long bytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();

    /**
     * @param capacity most envelopes held at once
     * @param maxBytes most estimated event bytes held at once ({@link Envelope#estimatedBytes()}), so that memory is
     *                 bounded by configuration even when events are large
     */
    public MemoryEventQueue(int capacity, long maxBytes) {
        if (capacity < 1) throw new IllegalArgumentException("queue.capacity must be >= 1, was " + capacity);
        if (maxBytes < 1) throw new IllegalArgumentException("queue.max-bytes must be >= 1, was " + maxBytes);
        this.capacity = capacity;
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean offerAll(List<Envelope> envelopes) {
        if (envelopes.isEmpty()) return true;
        lock.lock();
        try {
            long added = 0;
            for (Envelope e : envelopes) added += e.estimatedBytes();
            // An empty queue takes any one request that passed the size limits, so a big request cannot starve.
            if (items.size() + envelopes.size() > capacity || (!items.isEmpty() && bytes + added > maxBytes)) {
                return false;
            }
            items.addAll(envelopes);
            bytes += added;
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int drainTo(List<Envelope> sink, int max, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lockInterruptibly();
        try {
            while (items.isEmpty()) {
                if (nanos <= 0) return 0;
                nanos = notEmpty.awaitNanos(nanos);
            }
            int n = 0;
            while (n < max && !items.isEmpty()) {
                Envelope e = items.poll();
                bytes -= e.estimatedBytes();
                sink.add(e);
                n++;
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int depth() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }
}
