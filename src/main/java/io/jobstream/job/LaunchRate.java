package io.jobstream.job;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * At most {@code perMinute} launches per user in any 60 s ({@code jobs.max-launches-per-minute}). The waiting room
 * bounds what a user has queued, but a launch canceled while it waits leaves the room at once and its job row stays:
 * without a rate, launch-and-cancel creates rows as fast as HTTP goes. Remembers at most {@code perMinute} times per
 * user and forgets users whose launches are all older than a minute. Thread-safe.
 */
final class LaunchRate {
    private static final long WINDOW_MILLIS = 60_000;
    /** Above this many remembered users, those with nothing in the window are dropped. */
    private static final int PRUNE_ABOVE = 10_000;

    private final int perMinute;
    private final Map<Long, ArrayDeque<Long>> recent = new HashMap<>();

    /** @param perMinute 0 = no limit */
    LaunchRate(int perMinute) {
        this.perMinute = perMinute;
    }

    /** Counts a launch of {@code user} at {@code nowMillis}: 0 when allowed, else the whole seconds until one is. */
    synchronized long admit(long user, long nowMillis) {
        if (perMinute == 0) return 0;
        if (recent.size() > PRUNE_ABOVE) prune(nowMillis);
        ArrayDeque<Long> times = recent.computeIfAbsent(user, k -> new ArrayDeque<>());
        expire(times, nowMillis);
        if (times.size() >= perMinute) {
            return Math.max(1, (times.peekFirst() + WINDOW_MILLIS - nowMillis + 999) / 1000);
        }
        times.addLast(nowMillis);
        return 0;
    }

    private static void expire(ArrayDeque<Long> times, long nowMillis) {
        while (!times.isEmpty() && times.peekFirst() <= nowMillis - WINDOW_MILLIS) times.pollFirst();
    }

    private void prune(long nowMillis) {
        recent.values().forEach(times -> expire(times, nowMillis));
        recent.values().removeIf(ArrayDeque::isEmpty);
    }
}
