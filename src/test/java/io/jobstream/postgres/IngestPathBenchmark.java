package io.jobstream.postgres;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.jobstream.bench.DecoderBenchmark;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.Framing;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.MemoryEventQueue;
import io.jobstream.queue.Receipt;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The ingest → persist hot path's CPU per event, without HTTP or a database, stage by stage (run by
 * {@code bench/jmh IngestPathBenchmark}; {@code bench/all} runs it short and compares): {@code decode} (one request
 * body, NDJSON), {@code queue} (offer as one request, drain as the receiver does), {@code copyEncode} (the binary COPY
 * rows of a batch), {@code publish} (the broadcaster's per-event hop timers with nobody subscribed) and {@code path}
 * (all four in a row, what one node's CPU pays per event apart from HTTP, auth and PostgreSQL), next to
 * {@code jacksonBaseline}: every token of the same body read by a plain Jackson parser, the limit of any JSON decoder,
 * measured in the same run so that the ratio {@code jacksonBaseline / path} can be compared across runs on a noisy
 * machine. Results are per request; divide by the events in it (500 synthetic events of ~230 bytes, or the 788 of the
 * recorded real run, median 1.2 KB).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class IngestPathBenchmark {
    @Param({"synthetic", "recorded"})
    public String mix;

    private final EventDecoder decoder = new EventDecoder(2 << 20, Clock.systemUTC());
    private final EventCopy copy = new EventCopy();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MemoryBroadcaster broadcaster = new MemoryBroadcaster(new Hub(registry), registry);
    private final MemoryEventQueue queue = new MemoryEventQueue(100_000, 1L << 30);
    private byte[] body;
    private List<JobEvent> events;
    private long[] ids;
    private CommittedBatch committed;

    @Setup(Level.Trial)
    public void setUp() {
        body = mix.equals("recorded") ? DecoderBenchmark.recordedRun() : DecoderBenchmark.synthetic(500);
        events = new ArrayList<>();
        for (Decoded d : decoder.decodeBody(body, Framing.NDJSON)) events.add((JobEvent) ((Decoded.Ok) d).message());
        ids = new long[events.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = 1_000_000L + i;
        Instant now = Instant.now();
        List<StoredEvent> stored = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) stored.add(new StoredEvent(ids[i], events.get(i), now));
        committed = new CommittedBatch(stored, List.of(), now);
    }

    @Benchmark
    public List<Decoded> decode() {
        return decoder.decodeBody(body, Framing.NDJSON);
    }

    @Benchmark
    public int jacksonBaseline() throws IOException {
        int tokens = 0;
        int start = 0;
        for (int i = 0; i < body.length; i++) {
            if (body[i] != '\n') continue;
            try (JsonParser p = Json.MAPPER.getFactory().createParser(body, start, i - start)) {
                for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                    tokens += t == JsonToken.VALUE_STRING ? p.getTextLength() : 1; // strings decoded, as a decoder must
                }
            }
            start = i + 1;
        }
        return tokens;
    }

    @Benchmark
    public int queue() throws InterruptedException {
        return offerAndDrain(events);
    }

    @Benchmark
    public long copyEncode() {
        return copy.encode(events, ids, Instant.now());
    }

    @Benchmark
    public void publish() {
        broadcaster.publish(committed);
    }

    @Benchmark
    public long path(Blackhole bh) throws InterruptedException {
        List<Decoded> lines = decoder.decodeBody(body, Framing.NDJSON);
        List<JobEvent> decoded = new ArrayList<>(lines.size());
        for (Decoded d : lines) decoded.add((JobEvent) ((Decoded.Ok) d).message());
        bh.consume(offerAndDrain(decoded));
        Instant now = Instant.now();
        List<StoredEvent> stored = new ArrayList<>(decoded.size());
        for (int i = 0; i < decoded.size(); i++) stored.add(new StoredEvent(ids[i], decoded.get(i), now));
        broadcaster.publish(new CommittedBatch(stored, List.of(), now));
        return copy.encode(decoded, ids, now);
    }

    private int offerAndDrain(List<JobEvent> batch) throws InterruptedException {
        List<Envelope> envelopes = new ArrayList<>(batch.size());
        for (JobEvent e : batch) envelopes.add(new Envelope(e, Receipt.NONE));
        if (!queue.offerAll(envelopes)) throw new IllegalStateException("queue full");
        List<Envelope> sink = new ArrayList<>(batch.size());
        int drained = 0;
        while (drained < batch.size()) drained += queue.drainTo(sink, 2_000, Duration.ZERO);
        return drained;
    }
}
