package io.jobstream.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code load}: a load generator against a running node; see {@link LoadRun} for what it does and measures. */
@Command(
        name = "load",
        mixinStandardHelpOptions = true,
        description =
                "Offer a steady event rate to a node, subscribe to the jobs, print throughput and lag percentiles.")
final class LoadCommand implements Callable<Integer> {
    @Mixin
    NodeClient node;

    @Option(names = "--jobs", defaultValue = "1", description = "Jobs streaming at once. Default: ${DEFAULT-VALUE}.")
    int jobs;

    @Option(
            names = "--rate",
            defaultValue = "1000",
            paramLabel = "EVENTS_PER_SECOND",
            description = "Events per second offered, over all jobs. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(
            names = "--event-size",
            defaultValue = "300",
            paramLabel = "BYTES",
            description = "Approximate size of each event's JSON (stdout is padded). Default: ${DEFAULT-VALUE}.")
    int eventSize;

    @Option(
            names = "--subscribers",
            defaultValue = "1",
            description = "Websocket subscribers per job, each measuring lag. Default: ${DEFAULT-VALUE}.")
    int subscribers;

    @Option(
            names = "--duration",
            defaultValue = "20s",
            converter = DurationConverter.class,
            paramLabel = "DURATION",
            description = "How long to offer load after the warm-up. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(
            names = "--warmup",
            defaultValue = "5s",
            converter = DurationConverter.class,
            paramLabel = "DURATION",
            description = "Load offered first and not measured (JIT, caches). Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(
            names = "--drain-warmup",
            description = "Measure only once every event of the warm-up has reached every subscriber and the lag has"
                    + " stopped falling (at most 60 s more), so that a backlog built while the node warms up is not"
                    + " measured as steady-state lag.")
    boolean drainWarmup;

    @Option(
            names = "--first-job",
            paramLabel = "ID",
            description = "Job id of the first load job (default: a fresh range derived from the clock).")
    Long firstJob;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (jobs < 1 || rate < 1 || subscribers < 0 || eventSize < 100) {
            out.println(
                    "load: --jobs and --rate must be at least 1, --subscribers at least 0, --event-size at least 100");
            return 2;
        }
        long first = firstJob != null ? firstJob : LoadRun.freshJobRange();
        LoadRun.Result result = new LoadRun(
                        node,
                        new LoadRun.Plan(jobs, rate, eventSize, subscribers, warmup, duration, first, drainWarmup),
                        out)
                .run();
        out.println(result.report());
        out.flush();
        return result.lossless() ? 0 : 1;
    }
}
