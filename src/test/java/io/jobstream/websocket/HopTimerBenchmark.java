package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/** What the last hops' timers cost per written message ({@link WsMetrics#written}), one thread and two. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class HopTimerBenchmark {
    private final WsMetrics metrics = new WsMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    private final EventFrame frame = new EventFrame(1, 1, "{}", 1_000_000, 2_000_000);
    private long written = 3_000_000;

    @Benchmark
    public void written() {
        metrics.written(frame, written += 7);
    }

    @Benchmark
    @Threads(2)
    public void writtenTwoThreads() {
        metrics.written(frame, System.nanoTime() / 1000);
    }
}
