package io.jobstream.websocket;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** The websocket stage's meters, created once; the per-reason counters are looked up on the rare disconnect. */
final class WsMetrics {
    private final MeterRegistry registry;
    private final Counter sent;

    WsMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.sent = Counter.builder("ws.messages.sent").description("frames written to browser connections")
                .register(registry);
    }

    void sent() {
        sent.increment();
    }

    void disconnected(String reason) {
        registry.counter("ws.disconnects", "reason", reason).increment();
    }

    void rejected(String reason) {
        registry.counter("ws.messages.rejected", "reason", reason).increment();
    }
}
