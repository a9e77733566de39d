package io.jobstream.bench;

import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.testing.Events;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ingest hot path's CPU cost per event: decoding and validating a 788-event NDJSON body of the recorded real
 * Ansible run (median event 1.2 KB). Run with {@code bench/jmh DecoderBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DecoderBenchmark {
    static final int EVENTS = 788;
    private final EventDecoder decoder = new EventDecoder(2 << 20, Clock.systemUTC());
    private final byte[] body = recordedRun();

    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public List<Decoded> decodeRecordedRun() {
        return decoder.decodeBody(body);
    }

    /** The recorded run as one NDJSON body, each event given a job id. */
    public static byte[] recordedRun() {
        try (var in = DecoderBenchmark.class.getResourceAsStream("/demo/ansible-runner-events.jsonl.gz");
                var reader =
                        new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
            StringBuilder sb = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null)
                sb.append("{\"job_id\":1,").append(line.substring(1)).append('\n');
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code n} synthetic events of job 1 ({@code testing.Events}, ~230 bytes each) as one NDJSON body. */
    public static byte[] synthetic(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) sb.append(Events.event(1, i)).append('\n');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
