package io.jobstream.postgres;

import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The counters this node has stored for recently active jobs, so most redeliveries are recognised without a
 * round trip and the fast COPY path (which fails on any duplicate) is taken. It is only a hint: a miss (another
 * node stored it, or after a restart) is caught by the primary key and handled by the slower de-duplicating path.
 * Bounded: the least recently used jobs are forgotten. Receiver thread only.
 */
final class StoredCounters {
    private final Map<Long, BitSet> jobs;

    StoredCounters(int maxJobs) {
        this.jobs = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, BitSet> eldest) {
                return size() > maxJobs;
            }
        };
    }

    boolean contains(long jobId, int counter) {
        BitSet b = jobs.get(jobId);
        return b != null && b.get(counter);
    }

    void add(long jobId, int counter) {
        jobs.computeIfAbsent(jobId, k -> new BitSet()).set(counter);
    }
}
