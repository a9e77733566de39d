package io.jobstream.event;

import io.jobstream.bench.DecoderBenchmark;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One NDJSON body decoded on one shared parser ({@code shared}, what ingest does) next to a parser per line
 * ({@code parserPerLine}, what it did before session 10), in the same run (run by {@code bench/jmh LinesBenchmark};
 * docs/BENCHMARKS.md §1b). Results are per request: 500 synthetic events of ~230 bytes, or the 788 of the recorded run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LinesBenchmark {
    @Param({"synthetic", "recorded"})
    public String mix;

    private final EventDecoder decoder = new EventDecoder(2 << 20, Clock.systemUTC());
    private byte[] body;

    @Setup
    public void setUp() {
        body = mix.equals("recorded") ? DecoderBenchmark.recordedRun() : DecoderBenchmark.synthetic(500);
    }

    @Benchmark
    public List<Decoded> shared() {
        return decoder.decodeBody(body, Framing.NDJSON);
    }

    @Benchmark
    public List<Decoded> parserPerLine() {
        return decoder.decodeLinesOneByOne(body);
    }
}
