package io.jobstream.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * End-to-end lag with every party in a process of its own (issue 15; run by {@code bench/lag}, not a test): the node
 * (started by the script, which passes its pid and data dir), the emitter ({@code jobstream load --subscribers 0}:
 * ticks of 10 ms scheduled at its start, each event's {@code created} its tick's scheduled time, so an emitter held up
 * counts in the lag) and the subscribers ({@link FanoutClients}: one selector thread per process scanning bytes, no
 * JSON parsing). Lag is arrival − created, i.e. measured from the scheduled send time. The warm-up's events (the
 * first {@code warmup} of the schedule) are received and not measured; everything after is, with no wait for a
 * backlog to drain: the target is p99 over the whole measured window.
 *
 * <p>Reports the whole window's p50/p90/p99/p99.9/max, the p99 of each second (by arrival), and CPU per process (node,
 * its PostgreSQL, emitter, clients, the rest of the machine) from the emitter's first measuring second to the end of its schedule,
 * as a share of the machine and in µs per event at the planned rate.
 *
 * <p>Arguments: url data-dir node-pid rate subscribers-per-job seconds jobs warmup (e.g. {@code 10s}). Environment:
 * {@code LAG_LOAD_OPTS} (the emitter's JVM flags), {@code LAG_LOAD_ARGS} (more {@code load} flags),
 * {@code LAG_CLIENT_PROCESSES} (default 1), {@code LAG_TARGET_MS} (default 50: the p99 target shown as met/missed).
 */
public final class LagBenchmark {
    private static final int TICK_MS = 10;

    public static void main(String[] args) throws Exception {
        String url = args[0];
        Path dataDir = Path.of(args[1]);
        long nodePid = Long.parseLong(args[2]);
        int rate = Integer.parseInt(args[3]);
        int subscribers = Integer.parseInt(args[4]);
        int seconds = Integer.parseInt(args[5]);
        int jobs = Integer.parseInt(args[6]);
        long warmupMs = millis(args[7]);
        int processes = Integer.parseInt(System.getenv().getOrDefault("LAG_CLIENT_PROCESSES", "1"));
        double targetMs = Double.parseDouble(System.getenv().getOrDefault("LAG_TARGET_MS", "50"));

        int perTick = Math.max(1, rate * TICK_MS / 1000); // as LoadRun: events per 10 ms tick, round robin over jobs
        if (perTick % jobs != 0) throw new IllegalArgumentException("events per 10 ms tick must divide by the jobs");
        int perJobPerTick = perTick / jobs;
        int warmupPerJob = (int) (warmupMs / TICK_MS) * perJobPerTick;
        int perJob = warmupPerJob + (seconds * 1000 / TICK_MS) * perJobPerTick;
        long firstJob = 1_000_000_000L + (System.currentTimeMillis() / 1000 % 1_000_000) * 1000;
        String token = Files.readString(dataDir.resolve("cli-token"), StandardCharsets.UTF_8)
                .trim();
        String ws = url.replaceFirst("^http", "ws").replaceAll("/$", "") + "/websocket/";

        System.out.printf(
                "bench/lag (processes): %,d events/s over %d job(s), %d subscriber(s) per job in %d client process(es),"
                        + " %d s measured after %d ms warm-up; load before %s%n",
                rate, jobs, subscribers, processes, seconds, warmupMs, ProcessCpu.loadAverage());
        List<FanoutBenchmark.Client> clients = new ArrayList<>();
        Process emitter = null;
        try {
            int connections = subscribers * jobs;
            for (int p = 0; p < processes; p++) {
                int n = connections / processes + (p < connections % processes ? 1 : 0);
                if (n == 0) continue;
                clients.add(new FanoutBenchmark.Client(
                        ws,
                        n,
                        perJob,
                        warmupPerJob,
                        "{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[{job}]}}",
                        List.of(
                                "-Xmx256m",
                                "-Dfanout.jobs=" + jobs,
                                "-Dfanout.first.job=" + firstJob,
                                "-Dfanout.per.second=true",
                                "-Dfanout.drain.seconds=30"),
                        Map.of("JOBSTREAM_AUTHORIZATION", "Bearer " + token)));
            }
            for (FanoutBenchmark.Client c : clients) c.awaitReady();

            List<String> command = new ArrayList<>(List.of(javaBin(), "-Xmx1g"));
            command.addAll(words(System.getenv("LAG_LOAD_OPTS")));
            command.addAll(List.of(
                    "-jar",
                    "target/jobstream.jar",
                    "load",
                    "--url",
                    url,
                    "--rate",
                    Integer.toString(rate),
                    "--subscribers",
                    "0",
                    "--jobs",
                    Integer.toString(jobs),
                    "--first-job",
                    Long.toString(firstJob),
                    "--duration",
                    seconds + "s",
                    "--warmup",
                    warmupMs + "ms"));
            command.addAll(words(System.getenv("LAG_LOAD_ARGS")));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("JOBSTREAM_DATA_DIR", dataDir.toString()); // the admin token for the node's URL
            emitter = pb.start();
            Process started = emitter;
            // stopped by a signal (a timeout around bench/lag), the emitter and the clients must not outlive us
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                started.destroyForcibly();
                clients.forEach(c -> c.process.destroyForcibly());
            }));
            Path pg = dataDir.resolve("pg");
            Cpu start = Cpu.of(nodePid, pg, emitter.pid(), clients);
            Cpu measuring = null;
            Cpu end = null;
            Map<String, ThreadCpu.Ticks> threadsFrom = null;
            Map<String, ThreadCpu.Ticks> threadsTo = null;
            try (BufferedReader out =
                    new BufferedReader(new InputStreamReader(emitter.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (measuring == null && line.startsWith("measuring")) {
                        measuring = Cpu.of(nodePid, pg, emitter.pid(), clients); // the first measured second is over
                        threadsFrom = ThreadCpu.of(nodePid);
                    }
                    if (end == null && line.startsWith("emitter: at worst")) {
                        end = Cpu.of(nodePid, pg, emitter.pid(), clients); // its schedule is over, it still runs
                        threadsTo = ThreadCpu.of(nodePid);
                    }
                    // the emitter's own ms lines are its schedule and posts; lag is the subscribers' (below)
                    System.out.println("emitter: " + line);
                }
            }
            if (end == null) end = Cpu.of(nodePid, pg, emitter.pid(), clients);
            int emitterExit = emitter.waitFor();
            for (FanoutBenchmark.Client c : clients) c.publisherDone();

            Histogram lags = new Histogram(3);
            TreeMap<Long, Histogram> perSecond = new TreeMap<>();
            long received = 0;
            long measured = 0;
            long failed = 0;
            for (FanoutBenchmark.Client c : clients) {
                Map<String, String> r = c.result();
                received += Long.parseLong(r.getOrDefault("received", "0"));
                measured += Long.parseLong(r.getOrDefault("measured", "0"));
                failed += Long.parseLong(r.getOrDefault("failed", "0"));
                if (r.containsKey("histogram")) lags.add(FanoutClients.decode(r.get("histogram")));
                for (String s : r.getOrDefault("seconds", "").split(",")) {
                    if (s.isEmpty()) continue;
                    int colon = s.indexOf(':');
                    Histogram h = FanoutClients.decode(s.substring(colon + 1));
                    perSecond.merge(Long.parseLong(s.substring(0, colon)), h, (a, b) -> {
                        a.add(b);
                        return a;
                    });
                }
            }
            long expected = (long) connections * (perJob - warmupPerJob);
            System.out.printf(
                    "subscribers: %,d of %,d measured messages delivered (%,d received in all, warm-up included),"
                            + " %d connection(s) failed; emitter exit %d%n",
                    measured, expected, received, failed, emitterExit);
            System.out.printf(
                    "lag scheduled->websocket (ms), whole measured window: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f"
                            + "  max %.1f%n",
                    ms(lags, 50), ms(lags, 90), ms(lags, 99), ms(lags, 99.9), max(lags));
            perSecond(perSecond);
            boolean met = measured == expected && failed == 0 && ms(lags, 99) <= targetMs;
            System.out.printf(
                    "target p99 <= %.0f ms over the whole window, every message delivered: %s%n",
                    targetMs, met ? "MET" : "MISSED");
            if (measuring != null) cpu(measuring, end, rate);
            if (threadsFrom != null && threadsTo != null)
                ThreadCpu.print(
                        "node threads, measured window",
                        threadsFrom,
                        threadsTo,
                        rate * end.minus(measuring).seconds,
                        "event");
            else System.out.println("cpu: the emitter never reached its measured window");
            System.out.printf(
                    "cpu, whole run (warm-up included): %s%n", end.minus(start).shares());
            System.out.printf("load after %s%n", ProcessCpu.loadAverage());
        } finally {
            if (emitter != null) emitter.destroyForcibly();
            for (FanoutBenchmark.Client c : clients) {
                try {
                    c.publisherDone(); // a client still waiting (a failure above) stops after its drain time
                } catch (java.io.IOException ended) {
                    // it has already ended
                }
                c.close();
            }
        }
        System.exit(0);
    }

    private static void perSecond(TreeMap<Long, Histogram> perSecond) {
        if (perSecond.isEmpty()) return;
        long first = perSecond.firstKey();
        double worst = 0;
        double best = Double.MAX_VALUE;
        StringBuilder rows = new StringBuilder();
        for (Map.Entry<Long, Histogram> e : perSecond.entrySet()) {
            Histogram h = e.getValue();
            double p99 = ms(h, 99);
            worst = Math.max(worst, p99);
            best = Math.min(best, p99);
            rows.append(String.format(
                    "  %4ds %9d %9.1f %9.1f %9.1f%n", e.getKey() - first, h.getTotalCount(), ms(h, 50), p99, max(h)));
        }
        System.out.printf("per second of arrival: p99 %.1f to %.1f ms%n", best, worst);
        System.out.printf("  %5s %9s %9s %9s %9s%n", "second", "messages", "p50 ms", "p99 ms", "max ms");
        System.out.print(rows);
    }

    private static void cpu(Cpu from, Cpu to, int rate) {
        Cpu d = to.minus(from);
        double events = rate * d.seconds;
        System.out.printf(
                "cpu, measured window (%.1f s from the first measured second to the end of the emitter's schedule; µs per event at"
                        + " %,d/s):%n",
                d.seconds, rate);
        String[] names = {"node", "postgres", "emitter", "clients", "other", "machine"};
        long[] ticks = {
            d.node, d.postgres, d.emitter, d.clients, d.machine - d.node - d.postgres - d.emitter - d.clients, d.machine
        };
        for (int i = 0; i < names.length; i++) {
            double cpuSeconds = Math.max(0, ticks[i]) / ProcessCpu.HZ;
            System.out.printf(
                    "  %-9s %6.1f s  %5.1f%% of the machine  %6.1f µs/event%n",
                    names[i], cpuSeconds, 100 * d.share(ticks[i]), cpuSeconds / events * 1e6);
        }
    }

    /** CPU ticks of each party at one moment. */
    private record Cpu(long nanos, long node, long postgres, long emitter, long clients, long machine, double seconds) {
        static Cpu of(long nodePid, Path pg, long emitterPid, List<FanoutBenchmark.Client> clients) {
            long c = 0;
            for (FanoutBenchmark.Client client : clients) c += ProcessCpu.ticks(client.process.pid());
            return new Cpu(
                    System.nanoTime(),
                    ProcessCpu.ticks(nodePid),
                    ProcessCpu.postgresTicks(pg),
                    ProcessCpu.ticks(emitterPid),
                    c,
                    ProcessCpu.machineTicks(),
                    0);
        }

        Cpu minus(Cpu o) {
            return new Cpu(
                    nanos - o.nanos,
                    node - o.node,
                    postgres - o.postgres,
                    emitter - o.emitter,
                    clients - o.clients,
                    machine - o.machine,
                    (nanos - o.nanos) / 1e9);
        }

        /** Share of the whole machine (all cores) over this interval. */
        double share(long ticks) {
            return ticks / (seconds * ProcessCpu.HZ * Runtime.getRuntime().availableProcessors());
        }

        String shares() {
            return String.format(
                    "%.1f s: node %.0f%%, postgres %.0f%%, emitter %.0f%%, clients %.0f%%, machine %.0f%%",
                    seconds,
                    100 * share(node),
                    100 * share(postgres),
                    100 * share(emitter),
                    100 * share(clients),
                    100 * share(machine));
        }
    }

    private static long millis(String duration) {
        String d = duration.trim();
        if (d.endsWith("ms")) return Long.parseLong(d.substring(0, d.length() - 2));
        if (d.endsWith("s")) return TimeUnit.SECONDS.toMillis(Long.parseLong(d.substring(0, d.length() - 1)));
        if (d.endsWith("m")) return TimeUnit.MINUTES.toMillis(Long.parseLong(d.substring(0, d.length() - 1)));
        return TimeUnit.SECONDS.toMillis(Long.parseLong(d));
    }

    private static List<String> words(String s) {
        return s == null || s.isBlank() ? List.of() : Arrays.asList(s.trim().split("\\s+"));
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    private static double max(Histogram h) {
        return h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0;
    }

    private static String javaBin() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
