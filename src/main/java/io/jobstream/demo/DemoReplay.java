package io.jobstream.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jobstream.event.JobEof;
import io.jobstream.event.Timestamps;
import io.jobstream.time.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Replays one recorded run as a new job at its original pace: event i is due at the sum of the recorded gaps
 * before it, each gap capped (a recording may hold a long pause that a newcomer should not sit through).
 * Whatever is due when the replay wakes goes out as one batch, with {@code created} rewritten to the send time,
 * so that lag measured downstream is this replay's lag, not the recording's age. Ends with the EOF.
 *
 * <p>Runs on the caller's thread (DemoJobs's); the clock and sleeper are injected so tests need no real time.
 */
final class DemoReplay {
    /** Where a batch goes: NDJSON lines; blocks until delivered (or interrupted). */
    @FunctionalInterface
    interface Sink {
        void post(String ndjson) throws InterruptedException;
    }

    private final Clock clock;
    private final Sleeper sleeper;
    private final Duration maxGap;

    DemoReplay(Clock clock, Sleeper sleeper, Duration maxGap) {
        this.clock = clock;
        this.sleeper = sleeper;
        this.maxGap = maxGap;
    }

    /** Sends every event of {@code run} as job {@code jobId}, then its EOF; returns the number of batches. */
    int play(DemoRecording.Run run, long jobId, Sink sink) throws InterruptedException {
        List<DemoRecording.RecordedEvent> events = run.events();
        List<Duration> due = schedule(events);
        Instant start = clock.instant();
        int batches = 0;
        int i = 0;
        while (i < events.size()) {
            Duration wait = Duration.between(clock.instant(), start.plus(due.get(i)));
            if (wait.isNegative() || wait.isZero()) {
                Duration elapsed = Duration.between(start, clock.instant());
                Instant now = clock.instant();
                StringBuilder body = new StringBuilder();
                for (; i < events.size() && due.get(i).compareTo(elapsed) <= 0; i++) {
                    body.append(rewrite(events.get(i).json(), jobId, now)).append('\n');
                }
                sink.post(body.toString());
                batches++;
            } else {
                sleeper.sleep(wait);
            }
        }
        sink.post(JobEof.toJson(jobId, events.size()) + "\n");
        return batches;
    }

    /** Offsets from the run's start: cumulative recorded gaps, each clamped to [0, maxGap]. */
    List<Duration> schedule(List<DemoRecording.RecordedEvent> events) {
        List<Duration> due = new ArrayList<>(events.size());
        Duration offset = Duration.ZERO;
        Instant previous = null;
        for (DemoRecording.RecordedEvent event : events) {
            if (previous != null) {
                Duration gap = Duration.between(previous, event.created());
                if (gap.isNegative()) gap = Duration.ZERO; // recorded clocks can step back; never wait negative
                offset = offset.plus(gap.compareTo(maxGap) > 0 ? maxGap : gap);
            }
            due.add(offset);
            previous = event.created();
        }
        return due;
    }

    /** The recorded event as job {@code jobId}'s, created now; the recording itself is left untouched. */
    static String rewrite(ObjectNode recorded, long jobId, Instant now) {
        ObjectNode event = recorded.deepCopy();
        event.remove("_fixture_run");
        event.put("job_id", jobId);
        event.put("created", Timestamps.format(now));
        return event.toString();
    }
}
