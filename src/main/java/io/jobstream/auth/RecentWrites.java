package io.jobstream.auth;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Which writer was allowed to write which job within the last period. {@link JobAccess} keeps two: a short one
 * (30 s, forgotten on every access change of this node) that spares the store a query per request of a busy emitter,
 * and one for use only while the database cannot be asked: cluster mode keeps taking events into Redis during an
 * outage, and the emitters it saw writing a job keep writing it, as the credentials seen recently keep working
 * ({@link BasicCache#recentPrincipal}); that one lasts at most {@code auth.basic-cache}. After a failed store call the
 * store is not asked again for 10 s, since each try costs the pool's connection timeout. Bounded: above
 * {@link #MAX_ENTRIES} the map is cleared (it only costs asking again). Thread-safe.
 */
final class RecentWrites {
    static final int MAX_ENTRIES = 100_000;
    private static final long STORE_BACKOFF_NANOS = Duration.ofSeconds(10).toNanos();

    private final long ttlNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Long> expiries = new ConcurrentHashMap<>();
    private volatile long storeDownUntil = Long.MIN_VALUE;

    RecentWrites(Duration ttl, LongSupplier nanoTime) {
        this.ttlNanos = ttl.toNanos();
        this.nanoTime = nanoTime;
    }

    void remember(String writer, Collection<Long> jobs) {
        if (ttlNanos == 0 || jobs.isEmpty()) return;
        if (expiries.size() > MAX_ENTRIES) expiries.clear();
        long until = nanoTime.getAsLong() + ttlNanos;
        for (long job : jobs) expiries.put(writer + ":" + job, until);
    }

    /** Whether the writer wrote every one of these jobs within the last period. */
    boolean wroteAll(String writer, Collection<Long> jobs) {
        long now = nanoTime.getAsLong();
        for (long job : jobs) {
            Long until = expiries.get(writer + ":" + job);
            if (until == null || until - now <= 0) return false;
        }
        return true;
    }

    /** Forgets every remembered write (an access change on this node: demotions must hold at once). */
    void clear() {
        expiries.clear();
    }

    void storeFailed() {
        storeDownUntil = nanoTime.getAsLong() + STORE_BACKOFF_NANOS;
    }

    boolean storeDown() {
        return storeDownUntil != Long.MIN_VALUE && storeDownUntil - nanoTime.getAsLong() > 0;
    }
}
