package io.jobstream.ingest;

import io.jobstream.event.Capture;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.Decoded;
import io.jobstream.event.JobEvent;
import io.jobstream.metrics.Metrics;
import io.jobstream.queue.Receipt;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request's capture level applied to its valid lines (see {@link Capture} for what each level keeps), and the
 * count of what it dropped. Drops count when their event is committed, through its receipt, so that a request
 * that is refused (503) or resent (duplicates) does not count twice; jobs written at a level other than full
 * record it even when nothing of this request was dropped.
 */
final class CaptureStep {
    private final CaptureLevel level;
    private final Counter droppedEvents;
    private final Counter droppedBytes;
    private final Map<Decoded.Ok, Capture.Kept> kept = new IdentityHashMap<>();
    private final Map<Long, long[]> committed = new HashMap<>();
    private boolean anyEvent;

    CaptureStep(CaptureLevel level, MeterRegistry registry) {
        this.level = level;
        this.droppedEvents = registry.counter(Metrics.CAPTURE_DROPPED_EVENTS, "level", level.wire());
        this.droppedBytes = registry.counter(Metrics.CAPTURE_DROPPED_BYTES, "level", level.wire());
    }

    CaptureLevel level() {
        return level;
    }

    /** The lines as the level keeps them; the same list at {@code full}. */
    List<Decoded.Ok> apply(List<Decoded.Ok> valid) {
        if (level == CaptureLevel.FULL) return valid;
        List<Decoded.Ok> out = new ArrayList<>(valid.size());
        for (Decoded.Ok ok : valid) {
            if (!(ok.message() instanceof JobEvent e)) {
                out.add(ok);
                continue;
            }
            anyEvent = true;
            Capture.Kept k = Capture.apply(e, level);
            Decoded.Ok line = k.event() == e ? ok : new Decoded.Ok(ok.line(), k.event(), ok.repairs());
            kept.put(line, k);
            out.add(line);
        }
        return out;
    }

    /** Whether the jobs must hear of this request once committed: a level other than full, and events. */
    boolean dropsAny() {
        return level != CaptureLevel.FULL && anyEvent;
    }

    /** The line's receipt, counting what its event dropped once it is stored. */
    Receipt counting(Decoded.Ok line, Receipt receipt) {
        if (kept.isEmpty()) return receipt; // full: nothing applied, so no lookup per line
        Capture.Kept k = kept.get(line);
        if (k == null) return receipt;
        long jobId = k.event().jobId();
        return new Receipt() {
            @Override
            public void stored() {
                committed(jobId, k);
                receipt.stored();
            }

            @Override
            public void duplicate() {
                receipt.duplicate();
            }

            @Override
            public void failed(String reason) {
                receipt.failed(reason);
            }
        };
    }

    private synchronized void committed(long jobId, Capture.Kept k) {
        long[] sums = committed.computeIfAbsent(jobId, j -> new long[2]);
        if (!k.dropped()) return;
        sums[0]++;
        sums[1] += k.bytes();
        droppedEvents.increment();
        droppedBytes.increment(k.bytes());
    }

    /** Per job with a committed event: what was dropped of its committed events (zeros record the level only). */
    synchronized Map<Long, JobCaptures.Dropped> committedDrops() {
        Map<Long, JobCaptures.Dropped> out = new HashMap<>();
        committed.forEach((job, sums) -> out.put(job, new JobCaptures.Dropped(sums[0], sums[1])));
        return out;
    }
}
