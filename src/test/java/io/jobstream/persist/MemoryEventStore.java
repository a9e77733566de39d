package io.jobstream.persist;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.event.StoredEvent;
import io.jobstream.persist.WriteResult.Outcome;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * An {@link EventStore} in a few maps, for unit tests of what sits above the store (the receiver). It keeps the
 * promises {@link EventStoreContract} checks: idempotent on (job, counter), EOF sets the final counter, job
 * bookkeeping by {@link JobProgress}, changes reported in job id order. Two test hooks stand in for a database's
 * failures: {@link #failNextWrites} (the store is down: nothing committed, the caller retries) and a poison predicate
 * (a message the store can never take, which is parked while its neighbours are stored).
 *
 * <p>Not thread-safe, like the real store: only the receiver thread writes; tests read after it has written.
 */
public final class MemoryEventStore implements EventStore {
    private final Clock clock;
    private final Predicate<JobMessage> poison;
    private final Map<Long, JobProgress.Row> jobs = new HashMap<>();
    private final Map<Long, List<StoredEvent>> events = new HashMap<>();
    private final Set<Long> keys = new HashSet<>();
    private final List<JobMessage> parked = new ArrayList<>();
    private long nextId = 1;
    private int failNext;

    public MemoryEventStore(Clock clock) {
        this(clock, m -> false);
    }

    public MemoryEventStore(Clock clock, Predicate<JobMessage> poison) {
        this.clock = clock;
        this.poison = poison;
    }

    /** The next {@code n} writes throw, as a store that cannot reach its database does. */
    public void failNextWrites(int n) {
        failNext = n;
    }

    /** Stored events of a job, in the order they were committed. */
    public List<StoredEvent> events(long jobId) {
        return List.copyOf(events.getOrDefault(jobId, List.of()));
    }

    public JobProgress.Row job(long jobId) {
        return jobs.get(jobId);
    }

    public List<JobMessage> parked() {
        return List.copyOf(parked);
    }

    @Override
    public WriteResult write(List<JobMessage> messages) {
        if (failNext > 0) {
            failNext--;
            throw new IllegalStateException("store unavailable (test)");
        }
        Outcome[] outcomes = new Outcome[messages.size()];
        String[] reasons = new String[messages.size()];
        Instant modified = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Map<Long, Delta> deltas = new TreeMap<>(); // job id order, as the changes are reported
        List<StoredEvent> stored = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JobMessage m = messages.get(i);
            if (poison.test(m)) {
                parked.add(m);
                outcomes[i] = Outcome.PARKED;
                reasons[i] = "could not be stored: poison (test)";
                continue;
            }
            Delta d = deltas.computeIfAbsent(m.jobId(), k -> new Delta());
            if (m instanceof JobEof eof) {
                d.finalCounter = eof.finalCounter();
                outcomes[i] = Outcome.STORED;
            } else if (m instanceof JobEvent e) {
                if (!keys.add(key(e))) {
                    outcomes[i] = Outcome.DUPLICATE;
                    continue;
                }
                d.newEvents++;
                d.failed |= e.event().equals("playbook_on_stats") && e.failed();
                StoredEvent s = new StoredEvent(nextId++, e, modified);
                events.computeIfAbsent(e.jobId(), k -> new ArrayList<>()).add(s);
                stored.add(s);
                outcomes[i] = Outcome.STORED;
            }
        }
        List<JobChange> changes = new ArrayList<>();
        deltas.forEach((jobId, d) -> {
            JobProgress.Row before = jobs.getOrDefault(jobId, new JobProgress.Row("new", null, 0, false, false));
            JobProgress.Row now =
                    JobProgress.apply(before, new JobProgress.Delta(d.newEvents, d.finalCounter, d.failed));
            jobs.put(jobId, now);
            String status = now.status().equals(before.status()) ? null : now.status();
            boolean finishedNow = now.finished() && !before.finished();
            if (status != null || d.finalCounter != null || finishedNow) {
                changes.add(new JobChange(jobId, status, d.finalCounter, finishedNow));
            }
        });
        return new WriteResult(
                Arrays.asList(outcomes), Arrays.asList(reasons), new CommittedBatch(stored, changes, clock.instant()));
    }

    private static final class Delta {
        int newEvents;
        Integer finalCounter;
        boolean failed;
    }

    private static long key(JobEvent e) {
        return (e.jobId() << 32) ^ e.counter();
    }
}
