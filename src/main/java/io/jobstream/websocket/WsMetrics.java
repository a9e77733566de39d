package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.jobstream.metrics.HopHistogram;
import io.jobstream.metrics.Hops;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The websocket stage's meters, created once; the per-reason counters are looked up on the rare disconnect. */
final class WsMetrics {
    static final String CATCHUP_OVERFLOW = "overflow";
    static final String CATCHUP_GAP = "gap";
    static final String CATCHUP_RATE = "rate";
    static final String JOBS_LOOKUP_FAILED = "lookup_failed";
    static final String JOBS_STOPPING = "stopping";

    private final MeterRegistry registry;
    private final Counter sent;
    private final Counter events;
    private final Counter duplicates;
    private final Counter replayed;
    private final Counter holes;
    private final Counter late;
    private final Counter catchUpFailures;
    private final Counter overflow;
    private final Counter gap;
    private final Counter rate;
    private final Counter jobsLookupFailed;
    private final Counter jobsStopping;
    private final HopHistogram publishedWritten;
    private final HopHistogram createdWritten;
    /** By reason: a refused message costs a map read rather than building and looking up a meter id. */
    private final Map<String, Counter> rejected = new ConcurrentHashMap<>();

    WsMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.sent = Counter.builder(Metrics.WS_MESSAGES_SENT)
                .description("frames written to browser connections")
                .register(registry);
        this.events = Counter.builder(Metrics.WS_EVENTS_WRITTEN)
                .description("events written to browser connections (a batched frame holds several)")
                .register(registry);
        this.duplicates = Counter.builder(Metrics.WS_EVENTS_DUPLICATE)
                .description("live events a subscriber already had (redelivery, relay), not sent again")
                .register(registry);
        this.replayed = Counter.builder(Metrics.WS_EVENTS_REPLAYED)
                .description("events a subscriber got from the store (resume, gap, catch-up)")
                .register(registry);
        this.late = Counter.builder(Metrics.WS_EVENTS_LATE)
                .description("events sent after their counter had been skipped as a hole (late, out of order)")
                .register(registry);
        this.holes = Counter.builder(Metrics.WS_HOLES_SKIPPED)
                .description("counters skipped after ws.hole-wait because the store never got them")
                .register(registry);
        this.catchUpFailures = Counter.builder(Metrics.WS_CATCHUP_FAILURES)
                .description("store reads for a subscriber that failed (retried)")
                .register(registry);
        this.overflow = catchUps(registry, CATCHUP_OVERFLOW);
        this.gap = catchUps(registry, CATCHUP_GAP);
        this.rate = catchUps(registry, CATCHUP_RATE);
        this.jobsLookupFailed = jobsDropped(registry, JOBS_LOOKUP_FAILED);
        this.jobsStopping = jobsDropped(registry, JOBS_STOPPING);
        Hops hops = Hops.on(registry);
        this.publishedWritten = hops.hop(Metrics.HOP_PUBLISHED_WRITTEN);
        this.createdWritten = hops.hop(Metrics.HOP_CREATED_WRITTEN);
    }

    private static Counter catchUps(MeterRegistry registry, String reason) {
        return Counter.builder(Metrics.WS_CATCHUPS)
                .tag("reason", reason)
                .description("times a subscriber's job switched to reading from the store")
                .register(registry);
    }

    private static Counter jobsDropped(MeterRegistry registry, String reason) {
        return Counter.builder(Metrics.WS_JOBS_FRAMES_DROPPED)
                .tag("reason", reason)
                .description("jobs messages not sent: whether the user may see the job could not be asked")
                .register(registry);
    }

    /** One flush written: {@code frames} websocket frames holding {@code eventsIn} events (0 for a reply). */
    void sent(int frames, int eventsIn) {
        sent.increment(frames);
        if (eventsIn > 0) events.increment(eventsIn);
    }

    /** The last hops of one live event; replayed events (published 0) only count towards created→written. */
    void written(EventFrame event, long writtenMicros) {
        if (event.live()) {
            publishedWritten.record(writtenMicros - event.publishedMicros());
            if (event.createdMicros() > 0) createdWritten.record(writtenMicros - event.createdMicros());
        }
    }

    void duplicate() {
        duplicates.increment();
    }

    void replayed() {
        replayed.increment();
    }

    void late() {
        late.increment();
    }

    void holesSkipped(int counters) {
        holes.increment(counters);
    }

    void catchUpFailed() {
        catchUpFailures.increment();
    }

    void catchUp(String reason) {
        switch (reason) {
            case CATCHUP_OVERFLOW -> overflow.increment();
            case CATCHUP_GAP -> gap.increment();
            default -> rate.increment();
        }
    }

    /** {@code frames} jobs messages dropped: {@link #JOBS_LOOKUP_FAILED} or {@link #JOBS_STOPPING}. */
    void jobsDropped(String reason, int frames) {
        (reason.equals(JOBS_STOPPING) ? jobsStopping : jobsLookupFailed).increment(frames);
    }

    void disconnected(String reason) {
        registry.counter(Metrics.WS_DISCONNECTS, "reason", reason).increment();
    }

    void rejected(String reason) {
        rejected.computeIfAbsent(reason, r -> registry.counter(Metrics.WS_MESSAGES_REJECTED, "reason", r))
                .increment();
    }
}
