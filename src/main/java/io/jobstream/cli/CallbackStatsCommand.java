package io.jobstream.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code callback-stats}: AWX's {@code awx-manage callback_stats}, rows stored per minute, redrawn in place.
 *
 * <p>AWX estimates the rate from the span of row ids; jobstream's ids come in per-node blocks, so a span would
 * overcount. Instead this samples the node's own count of rows it stored ({@code events_stored_total} on
 * {@code /metrics}, which excludes duplicates) four times a second and prints the rise over the last minute: exact
 * for that node, and for a cluster, run it against each node (or read {@code ./jobstream stats}).
 */
@Command(
        name = "callback-stats",
        mixinStandardHelpOptions = true,
        description = "Rows stored per minute by a node (like awx-manage callback_stats), redrawn in place.")
final class CallbackStatsCommand implements Callable<Integer> {
    private static final Duration SAMPLE_EVERY = Duration.ofMillis(250);
    private static final Duration MINUTE = Duration.ofMinutes(1);
    static final String STORED = "events_stored_total";

    @Mixin
    NodeClient node;

    @Option(
            names = "--duration",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Stop after this long (default: until Ctrl-C).")
    Duration duration;

    @Option(names = "--no-redraw", description = "Print a new block each second instead of redrawing in place.")
    boolean noRedraw;

    @Spec
    CommandSpec spec;

    private record Sample(long nanos, double stored) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long start = System.nanoTime();
        long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        Deque<Sample> samples = new ArrayDeque<>();
        long lastPrint = 0;
        boolean drawn = false;
        while (System.nanoTime() < end) {
            Sample now = new Sample(System.nanoTime(), storedRows());
            samples.addLast(now);
            // keep the newest sample at least a minute old as the base, drop older ones
            while (samples.size() > 2 && now.nanos() - secondOldest(samples).nanos() >= MINUTE.toNanos()) {
                samples.removeFirst();
            }
            if (now.nanos() - lastPrint >= 1_000_000_000L) {
                Sample base = samples.peekFirst();
                long span = now.nanos() - base.nanos();
                long rows = Math.round(now.stored() - base.stored());
                if (drawn && !noRedraw) out.print("\u001b[3A\u001b[J"); // up three lines and clear, as AWX redraws
                out.println("job_event");
                out.println("\u21b3  last minute " + rows
                        + (span < MINUTE.toNanos() - SAMPLE_EVERY.toNanos()
                                ? " (over " + span / 1_000_000_000L + " s so far)"
                                : ""));
                out.println();
                out.flush();
                drawn = true;
                lastPrint = now.nanos();
            }
            Thread.sleep(SAMPLE_EVERY.toMillis());
        }
        return 0;
    }

    private static Sample secondOldest(Deque<Sample> samples) {
        var it = samples.iterator();
        it.next();
        return it.next();
    }

    private double storedRows() throws IOException, InterruptedException {
        HttpResponse<String> r = node.http()
                .send(
                        node.request("/metrics").timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException("GET /metrics answered " + r.statusCode());
        return counter(r.body(), STORED);
    }

    /** The sum of a counter's series in Prometheus text (a counter may carry labels). */
    static double counter(String prometheusText, String name) {
        double sum = 0;
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
