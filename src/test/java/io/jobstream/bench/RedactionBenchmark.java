package io.jobstream.bench;

import io.jobstream.event.Capture;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobEvent;
import io.jobstream.event.Json;
import io.jobstream.event.Redactor;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What redaction at ingest costs per event: the decoder of {@link DecoderBenchmark} on the recorded real run, with
 * no pattern, with typical secret patterns that match nothing in it (the common case: every string is still
 * scanned), and with a pattern that matches in most events (each such event_data is rebuilt). Run with
 * {@code bench/jmh RedactionBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RedactionBenchmark {
    /** Typical operator patterns: a password assignment, an AWS access key id, a private key header. */
    static final List<String> SECRETS =
            List.of("(?i)password[=:]\\s*\\S+", "AKIA[0-9A-Z]{16}", "-----BEGIN [A-Z ]*PRIVATE KEY-----");

    @Param({"none", "one", "three", "three_matching"})
    public String patterns;

    private EventDecoder decoder;
    private final byte[] body = DecoderBenchmark.recordedRun();

    @Setup
    public void setUp() {
        List<String> chosen = switch (patterns) {
            case "none" -> List.of();
            case "one" -> SECRETS.subList(0, 1);
            case "three" -> SECRETS;
            default -> List.of(SECRETS.get(0), SECRETS.get(1), "web-0[0-9]"); // a host name of most task results
        };
        Redactor redactor = new Redactor(chosen.stream().map(Pattern::compile).toList());
        decoder = new EventDecoder(2 << 20, Json.DEFAULT_EVENT_DEPTH, Clock.systemUTC(), redactor);
    }

    @Benchmark
    @OperationsPerInvocation(DecoderBenchmark.EVENTS)
    public List<Decoded> decodeRecordedRun() {
        return decoder.decodeBody(body);
    }

    /**
     * For the docs: how many events of the recorded run the matching variant rewrites, and the stdout + event_data
     * bytes each capture level keeps of it.
     */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("cpu")) {
            cpu(args.length > 1 ? Integer.parseInt(args[1]) : 15);
            return;
        }
        Redactor r = new Redactor(List.of(Pattern.compile("web-0[0-9]")));
        List<Decoded> lines = new EventDecoder(2 << 20, Json.DEFAULT_EVENT_DEPTH, Clock.systemUTC(), r)
                .decodeBody(DecoderBenchmark.recordedRun());
        System.out.println("rewritten by 'web-0[0-9]': " + Arrays.asList(r.redactedEvents(), DecoderBenchmark.EVENTS));
        for (CaptureLevel level : CaptureLevel.values()) {
            long bytes = 0;
            long dropped = 0;
            for (Decoded d : lines) {
                if (!(d instanceof Decoded.Ok ok) || !(ok.message() instanceof JobEvent e)) continue;
                Capture.Kept k = Capture.apply(e, level);
                bytes += utf8(k.event().stdout()) + utf8(k.event().eventData());
                if (k.dropped()) dropped++;
            }
            System.out.println(level.wire() + ": " + bytes + " bytes of stdout + event_data kept, " + dropped
                    + " events lost text");
        }
    }

    /**
     * The same four variants timed by this thread's CPU time, interleaved round by round, median per variant: on a
     * machine shared with other work, wall-clock JMH numbers carry more noise than the differences measured here.
     */
    static void cpu(int rounds) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        String[] variants = {"none", "one", "three", "three_matching"};
        RedactionBenchmark[] benches = new RedactionBenchmark[variants.length];
        for (int v = 0; v < variants.length; v++) {
            benches[v] = new RedactionBenchmark();
            benches[v].patterns = variants[v];
            benches[v].setUp();
        }
        long[][] perEvent = new long[variants.length][rounds];
        int reps = 20;
        for (int warm = 0; warm < 30; warm++) for (RedactionBenchmark b : benches) b.decodeRecordedRun();
        for (int r = 0; r < rounds; r++) {
            for (int v = 0; v < variants.length; v++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < reps; i++) benches[v].decodeRecordedRun();
                perEvent[v][r] = (mx.getCurrentThreadCpuTime() - t0) / ((long) reps * DecoderBenchmark.EVENTS);
            }
        }
        for (int v = 0; v < variants.length; v++) {
            long[] sorted = perEvent[v].clone();
            Arrays.sort(sorted);
            System.out.printf(
                    "%-15s median %6d ns/event CPU (min %d, max %d, %d rounds of %d x %d events)%n",
                    variants[v],
                    sorted[rounds / 2],
                    sorted[0],
                    sorted[rounds - 1],
                    rounds,
                    reps,
                    DecoderBenchmark.EVENTS);
        }
    }

    private static long utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
