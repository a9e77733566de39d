package io.jobstream.websocket;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** Background work and time that move only when a test says so: {@link #runPending}, {@link #advance}. */
final class ManualBackground extends Clock implements JobFeed.Background {
    private final ArrayDeque<Runnable> ready = new ArrayDeque<>();
    private final List<Object[]> later = new ArrayList<>(); // {due millis, task}
    private long nowMillis = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();

    @Override
    public synchronized void execute(Runnable task) {
        ready.add(task);
    }

    @Override
    public synchronized void schedule(Runnable task, long delayMillis) {
        later.add(new Object[] {nowMillis + delayMillis, task});
    }

    /** Runs what is ready, including what that makes ready, until nothing is. */
    void runPending() {
        while (true) {
            Runnable task;
            synchronized (this) {
                task = ready.poll();
            }
            if (task == null) return;
            task.run();
        }
    }

    /** Moves time on, making due tasks ready, and runs them. */
    void advance(long millis) {
        long until = nowMillis + millis;
        while (true) {
            Object[] next = null;
            synchronized (this) {
                for (Object[] t : later)
                    if ((long) t[0] <= until && (next == null || (long) t[0] < (long) next[0])) next = t;
                if (next == null) {
                    nowMillis = until;
                    break;
                }
                later.remove(next);
                nowMillis = Math.max(nowMillis, (long) next[0]);
                ready.add((Runnable) next[1]);
            }
            runPending();
        }
        runPending();
    }

    synchronized int scheduled() {
        return later.size();
    }

    @Override
    public synchronized Instant instant() {
        return Instant.ofEpochMilli(nowMillis);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
