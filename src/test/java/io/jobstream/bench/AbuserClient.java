package io.jobstream.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where {@code bench/neighbours}' abusing user runs. In a process of its own by default, started under
 * {@code nice -n 19} and, when {@code taskset} exists, pinned to the last core: the abuser's client really runs on the
 * abuser's machine, and here it should not take CPU from the node and the watcher when they need it (an approximation:
 * the node still shares its two cores with it whenever they are idle). {@code inproc} runs it on threads of the
 * benchmark's own JVM, as the benchmark did first, for comparison. Called from the benchmark's main thread only;
 * {@link #stop} ends the process.
 */
final class AbuserClient {
    private final URI base;
    private final URI websocket;
    private final long userId;
    private final boolean inProcess;
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** The abuser when it runs on this JVM's threads ({@code inproc}); otherwise {@link #process}. */
    private NeighboursAbuser local;

    private Process process;
    private BufferedReader output;
    private String how;

    AbuserClient(URI base, URI websocket, long userId, boolean inProcess) {
        this.base = base;
        this.websocket = websocket;
        this.userId = userId;
        this.inProcess = inProcess;
    }

    /** Starts every abuse and returns once they all run. */
    void start() throws Exception {
        if (inProcess) {
            local = new NeighboursAbuser(base, websocket, userId);
            local.start(running);
            how = "inside the benchmark's JVM";
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("nice", "-n", "19"));
        int cores = Runtime.getRuntime().availableProcessors();
        if (cores > 1 && Files.isExecutable(Path.of("/usr/bin/taskset"))) {
            cmd.addAll(List.of("taskset", "-c", Integer.toString(cores - 1)));
        }
        cmd.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                NeighboursAbuser.class.getName(),
                base.toString(),
                websocket.toString(),
                Long.toString(userId)));
        how = "own JVM: " + String.join(" ", cmd.subList(0, cmd.indexOf("-Xmx768m") - 1)) + " java";
        process = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = output.readLine()) != null; ) {
            if (line.equals("READY")) return;
            System.out.println("  abuser: " + line);
        }
        throw new IllegalStateException("the abuser process ended before it was ready");
    }

    /** The pid whose CPU is the abuser's, or -1 when it runs inside the benchmark's JVM. */
    long pid() {
        return process == null ? -1 : process.pid();
    }

    String how() {
        return how;
    }

    /** Stops every abuse; what each got back, by abuse and answer. */
    Map<String, Map<String, Long>> stop() throws Exception {
        Map<String, Map<String, Long>> outcomes = new TreeMap<>();
        if (inProcess) {
            running.set(false);
            local.stop();
            local.outcomes.forEach((abuse, answers) -> answers.forEach((outcome, n) ->
                    outcomes.computeIfAbsent(abuse, k -> new TreeMap<>()).put(outcome, n.sum())));
            return outcomes;
        }
        try (OutputStream in = process.getOutputStream()) {
            in.write("stop\n".getBytes(StandardCharsets.UTF_8));
        }
        for (String line; (line = output.readLine()) != null && !line.equals("DONE"); ) {
            if (!line.startsWith("OUTCOME ")) {
                System.out.println("  abuser: " + line);
                continue;
            }
            String[] f = line.substring("OUTCOME ".length()).split("\t");
            outcomes.computeIfAbsent(f[0], k -> new TreeMap<>()).put(f[1], Long.parseLong(f[2]));
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
        return outcomes;
    }

    /** Ends the process if {@link #stop} did not get to (the benchmark failed). */
    void kill() {
        if (process != null && process.isAlive()) process.destroyForcibly();
    }
}
