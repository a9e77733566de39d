package io.jobstream.job;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Who runs next: the running slots ({@code jobs.max-running}) and the waiting room ({@code jobs.max-pending}) shared
 * out per user, so that one user's launches cannot hold every slot or fill the waiting room while others wait.
 *
 * <ul>
 *   <li>A user runs at most {@code maxRunningPerUser} jobs at once, even when slots are free: with the defaults
 *       (4 slots, 3 per user) one user's long playbooks always leave a slot for someone else.</li>
 *   <li>When a slot frees, the next job comes from the waiting user with the fewest running jobs; among equals, the
 *       one whose turn came longest ago (round robin). A user's own jobs start in launch order.</li>
 *   <li>A launch that cannot start at once waits, unless {@code maxPendingPerUser} of its user's jobs already wait
 *       ({@link Refusal#USER_PENDING}) or {@code maxPending} jobs wait in all ({@link Refusal#PENDING}).</li>
 * </ul>
 *
 * <p>A job holds its slot from {@link #next} until {@link #release}. Not thread-safe on its own: the launcher calls
 * it under one lock. Users are ids; the node's own launches (the demo) share id 0.
 */
final class FairSlots<T> {
    /** Why a launch was not admitted; the tag of {@code jobs.refused}. */
    enum Refusal {
        USER_PENDING("user_pending"),
        PENDING("pending");

        final String tag;

        Refusal(String tag) {
            this.tag = tag;
        }
    }

    private static final class User<T> {
        final ArrayDeque<T> waiting = new ArrayDeque<>();
        int running;
        long lastTurn;
    }

    private final int maxRunning;
    private final int maxRunningPerUser;
    private final int maxPending;
    private final int maxPendingPerUser;
    private final Map<Long, User<T>> users = new HashMap<>();
    private int running;
    private int pending;
    private long turns;

    /** @param maxRunningPerUser 0 = as many as {@code maxRunning} */
    FairSlots(int maxRunning, int maxRunningPerUser, int maxPending, int maxPendingPerUser) {
        this.maxRunning = maxRunning;
        this.maxRunningPerUser = maxRunningPerUser == 0 ? maxRunning : Math.min(maxRunningPerUser, maxRunning);
        this.maxPending = maxPending;
        this.maxPendingPerUser = maxPendingPerUser;
    }

    /**
     * Why a job of {@code user} may not queue now, or null when it may. A job that can start at once is always
     * admitted; one that would wait needs a place in its user's share and in the waiting room.
     */
    Refusal admits(long user) {
        User<T> u = users.get(user);
        int userWaiting = u == null ? 0 : u.waiting.size();
        int userRunning = u == null ? 0 : u.running;
        boolean startsNow = userWaiting == 0 && userRunning < maxRunningPerUser && running < maxRunning;
        if (startsNow) return null;
        if (userWaiting >= maxPendingPerUser) return Refusal.USER_PENDING;
        if (pending >= maxPending) return Refusal.PENDING;
        return null;
    }

    /** Queues {@code job} of {@code user}; returns why not (nothing queued), or null when queued. */
    Refusal add(long user, T job) {
        Refusal refusal = admits(user);
        if (refusal != null) return refusal;
        users.computeIfAbsent(user, k -> new User<>()).waiting.addLast(Objects.requireNonNull(job));
        pending++;
        return null;
    }

    /** Takes a waiting job off the queue without it having run (canceled before it started); false if not waiting. */
    boolean remove(long user, T job) {
        User<T> u = users.get(user);
        if (u == null || !u.waiting.remove(job)) return false;
        pending--;
        forgetIfIdle(user, u);
        return true;
    }

    /** The job to start now, its slot taken; null when no slot is free or no waiting user may have one. */
    T next() {
        if (running >= maxRunning) return null;
        Map.Entry<Long, User<T>> best = null;
        for (Map.Entry<Long, User<T>> e : users.entrySet()) {
            User<T> u = e.getValue();
            if (u.waiting.isEmpty() || u.running >= maxRunningPerUser) continue;
            if (best == null
                    || u.running < best.getValue().running
                    || (u.running == best.getValue().running && u.lastTurn < best.getValue().lastTurn)) {
                best = e;
            }
        }
        if (best == null) return null;
        User<T> u = best.getValue();
        u.running++;
        u.lastTurn = ++turns;
        running++;
        pending--;
        return u.waiting.removeFirst();
    }

    /** Frees the slot a job of {@code user} held since {@link #next}. */
    void release(long user) {
        User<T> u = users.get(user);
        if (u == null || u.running == 0) throw new IllegalStateException("user " + user + " holds no slot");
        u.running--;
        running--;
        forgetIfIdle(user, u);
    }

    int running() {
        return running;
    }

    int pending() {
        return pending;
    }

    /** Jobs {@code user} has running and waiting. */
    int[] of(long user) {
        User<T> u = users.get(user);
        return u == null ? new int[] {0, 0} : new int[] {u.running, u.waiting.size()};
    }

    private void forgetIfIdle(long user, User<T> u) {
        // a user with nothing running or waiting is forgotten, so the map holds only active users; their turn order
        // restarts, which is fair: they had nothing waiting
        if (u.running == 0 && u.waiting.isEmpty()) users.remove(user);
    }
}
