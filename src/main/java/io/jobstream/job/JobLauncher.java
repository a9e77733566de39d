package io.jobstream.job;

import io.jobstream.config.Config.JobsConfig;
import io.jobstream.config.PrivateFiles;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs launched jobs: one {@code ansible-playbook} process per job with the jobstream callback plugin, which sends
 * the job's events back to this node over HTTP ingest like any other emitter.
 *
 * <p>Lifecycle of a job: {@link #launch} checks the paths, creates the row ({@code pending}) and queues the run;
 * a worker thread ({@code job-launcher-N}, at most {@code jobs.max-running}) marks it {@code running}, starts the
 * process with its terminal output (stdout and stderr, merged as on a terminal) going to
 * {@code <data-dir>/jobs/<id>/stdout}, waits for it, and writes the final status by {@link ExitStatus}. Waiting
 * jobs beyond {@code jobs.max-pending} are refused (503). {@link #cancel} sends SIGINT (ansible-playbook then stops
 * its workers and exits, and the plugin sends its EOF), SIGTERM after {@code jobs.cancel-grace}, and SIGKILL after
 * as long again; a job canceled before it started never starts.
 *
 * <p>Status changes go to the store first, then to the {@link StatusListener} (websocket {@code status_changed}).
 * Thread-safe. {@link #close()} cancels what runs and waits for it (bounded), so the plugin can still deliver its
 * tail while ingest is open: the server closes the launcher before ingest.
 */
public final class JobLauncher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobLauncher.class);

    private final JobsConfig config;
    private final PlaybookDir playbooks;
    private final Path dataDir;
    private final Supplier<URI> nodeUri;
    private final Supplier<Path> caFile;
    private final LaunchedJobStore store;
    private final StatusListener listener;
    private final Clock clock;
    private final JobTokens tokens;
    private final OwnEvents ownEvents;
    /** How long after the process ended its EOF may still be on its way through the queue. */
    static final int EOF_WAIT_SECONDS = 10;
    private static final int EOF_ATTEMPTS = 30;
    private final Map<Long, Run> runs = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ExecutorService workers;
    private final ScheduledExecutorService escalation;
    private volatile Path pluginDir;
    private volatile boolean closed;

    /** One launched job while it waits or runs. Guarded by its own monitor. */
    private static final class Run {
        final long id;
        Process process;
        boolean cancelRequested;
        boolean done;

        Run(long id) {
            this.id = id;
        }
    }

    /**
     * @param nodeUri this node's base URL, for the plugin's {@code JOBSTREAM_URL}
     * @param caFile  the node's TLS certificate file for the plugin to trust ({@code JOBSTREAM_CA_FILE}), or a
     *                supplier of null when the node serves plain HTTP or a CA-signed certificate
     * @param tokens  issues each run's ingest token (the plugin's {@code JOBSTREAM_TOKEN}) and revokes it at the end
     * @param ownEvents writes the EOF of a run whose plugin could not (see {@link #closeEvents})
     */
    public JobLauncher(JobsConfig config, Path dataDir, Supplier<URI> nodeUri, Supplier<Path> caFile,
                       LaunchedJobStore store, StatusListener listener, Clock clock, JobTokens tokens,
                       OwnEvents ownEvents) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.ownEvents = Objects.requireNonNull(ownEvents, "ownEvents");
        this.config = Objects.requireNonNull(config, "config");
        this.playbooks = new PlaybookDir(config.playbookDir());
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.nodeUri = nodeUri;
        this.caFile = caFile;
        this.store = store;
        this.listener = listener;
        this.clock = clock;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(config.maxRunning(), r -> {
            Thread t = new Thread(r, "job-launcher-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.escalation = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "job-cancel");
            t.setDaemon(true);
            return t;
        });
    }

    /** Writes the plugin under the data dir. */
    public JobLauncher start() {
        pluginDir = PluginFiles.extract(dataDir);
        if (!Files.isDirectory(playbooks.path())) {
            LOG.warn("playbook directory {} does not exist: launching jobs will fail until it does", playbooks.path());
        }
        return this;
    }

    public Path playbookDir() {
        return playbooks.path();
    }

    /** Where the terminal output of job {@code id}'s process is kept. */
    public Path outputFile(long jobId) {
        return dataDir.resolve("jobs").resolve(Long.toString(jobId)).resolve("stdout");
    }

    /** Whether {@code jobs.ansible-playbook} can be run here (on PATH, or an executable path). */
    public boolean ansibleAvailable() {
        String cmd = config.ansiblePlaybook();
        if (cmd.contains("/")) return Files.isExecutable(Path.of(cmd));
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, cmd))) return true;
        }
        return false;
    }

    /** Validates and queues a launch owned by no one (admins see it); returns the new job id. */
    public long launch(LaunchRequest request) {
        return launch(request, null, null);
    }

    /**
     * Validates and queues a launch; returns the new job id.
     *
     * @param ownerId the launching user, who may then see the job (null: admins only)
     * @param teamId  a team to share the job with (null: none); the caller has checked it
     */
    public long launch(LaunchRequest request, Long ownerId, Long teamId) {
        if (closed) throw new LaunchException(503, "the node is stopping");
        Path playbook = playbooks.resolve(request.playbook(), "playbook");
        Path inventory = request.inventory().isEmpty() ? defaultInventory() : playbooks.resolve(request.inventory(), "inventory");
        if (inFlight.incrementAndGet() > config.maxRunning() + config.maxPending()) {
            inFlight.decrementAndGet();
            throw new LaunchException(503, "too many launched jobs waiting (jobs.max-pending=" + config.maxPending() + ")");
        }
        long id;
        try {
            String name = request.name().isEmpty() ? request.playbook() : request.name();
            id = store.createLaunched(name, playbooks.path().relativize(playbook).toString(), ownerId, teamId);
        } catch (RuntimeException e) {
            inFlight.decrementAndGet();
            throw e;
        }
        Run run = new Run(id);
        runs.put(id, run);
        listener.statusChanged(id, "pending", null);
        List<String> command = command(id, playbook, inventory, request);
        try {
            workers.execute(() -> run(run, command, request.extraVars()));
        } catch (RuntimeException e) { // rejected: the pool is shut down
            end(run, "error", "the node stopped before the job started");
        }
        return id;
    }

    private Path defaultInventory() {
        for (String name : List.of("inventory.ini", "inventory", "hosts")) {
            Path p = playbooks.path().resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private List<String> command(long id, Path playbook, Path inventory, LaunchRequest request) {
        List<String> cmd = new ArrayList<>();
        cmd.add(config.ansiblePlaybook());
        if (inventory != null) {
            cmd.add("-i");
            cmd.add(inventory.toString());
        }
        cmd.add("-e");
        cmd.add("@" + extraVarsFile(id));
        if (request.verbosity() > 0) cmd.add("-" + "v".repeat(request.verbosity()));
        if (!request.limit().isEmpty()) {
            cmd.add("--limit");
            cmd.add(request.limit());
        }
        cmd.add(playbooks.path().relativize(playbook).toString());
        return cmd;
    }

    private Path extraVarsFile(long id) {
        return outputFile(id).resolveSibling("extra_vars.json");
    }

    /**
     * Asks a job to stop. A waiting job is canceled at once; a running one gets SIGINT now, SIGTERM and SIGKILL
     * later if it is still alive. Returns false when this node is not running the job (unknown, or already ended).
     */
    public boolean cancel(long jobId) {
        Run run = runs.get(jobId);
        if (run == null) return false;
        Process p;
        synchronized (run) {
            if (run.done || run.cancelRequested) return !run.done;
            run.cancelRequested = true;
            p = run.process;
        }
        if (p == null) {
            end(run, "canceled", "canceled before it started");
            return true;
        }
        LOG.info("canceling job {}: SIGINT to ansible-playbook pid {}", jobId, p.pid());
        signal(p, "INT");
        long grace = config.cancelGrace().toMillis();
        escalation.schedule(() -> {
            if (p.isAlive()) {
                LOG.warn("job {}: ansible-playbook still running {} ms after SIGINT, sending SIGTERM", jobId, grace);
                p.destroy();
            }
        }, grace, TimeUnit.MILLISECONDS);
        escalation.schedule(() -> {
            if (p.isAlive()) {
                LOG.warn("job {}: ansible-playbook still running after SIGTERM, killing it", jobId);
                p.destroyForcibly();
            }
        }, 2 * grace, TimeUnit.MILLISECONDS);
        return true;
    }

    /** Whether this node has the job waiting or running. */
    public boolean isActive(long jobId) {
        Run run = runs.get(jobId);
        if (run == null) return false;
        synchronized (run) {
            return !run.done;
        }
    }

    private static void signal(Process p, String signal) {
        try {
            // The JDK can send only SIGTERM and SIGKILL; SIGINT (Ctrl-C) is what lets ansible-playbook stop cleanly.
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            kill.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            LOG.warn("cannot send SIG{} to pid {}: {}; sending SIGTERM", signal, p.pid(), e.getMessage());
            p.destroy();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run(Run run, List<String> command, String extraVars) {
        Process process;
        Path out = outputFile(run.id);
        try {
            synchronized (run) {
                if (run.cancelRequested || run.done) return;
                PrivateFiles.directory(out.getParent()); // jobs/ and jobs/<id>/ 0700, the files 0600
                PrivateFiles.writeString(extraVarsFile(run.id), extraVars);
                PrivateFiles.emptyFile(out);
                ProcessBuilder pb = new ProcessBuilder(command)
                        .directory(playbooks.path().toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                environment(pb.environment(), run.id);
                process = pb.start();
                run.process = process;
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("job {}: cannot start {}: {}", run.id, command.get(0), e.getMessage());
            end(run, "error", "cannot start " + command.get(0) + ": " + e.getMessage());
            return;
        }
        store.started(run.id);
        listener.statusChanged(run.id, "running", null);
        LOG.info("job {}: started ansible-playbook pid {}: {}", run.id, process.pid(), String.join(" ", command));
        int exit;
        try {
            exit = process.waitFor();
        } catch (InterruptedException e) { // only close() interrupts: stop the process too
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            end(run, "error", "the node stopped while the job ran");
            return;
        }
        boolean canceled;
        synchronized (run) {
            canceled = run.cancelRequested;
        }
        String status = ExitStatus.of(exit, canceled);
        String explanation = switch (status) {
            case "canceled" -> "canceled (ansible-playbook exited with code " + exit + ")";
            case "error" -> "ansible-playbook exited with code " + exit;
            default -> "";
        };
        LOG.info("job {}: ansible-playbook exited with code {}: {}", run.id, exit, status);
        try {
            closeEvents(run.id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        end(run, status, explanation);
    }

    /**
     * Makes sure the job's events end with an EOF. The plugin sends it, and delivers it before the process exits (an
     * ingest reply means committed), so normally it is stored already. A process killed hard (SIGKILL after a cancel's
     * grace, the OOM killer) or a plugin that gave up delivering never sends it, and the job would show its events as
     * still arriving forever. So, after {@value #EOF_WAIT_SECONDS} s without one (accepted events may still sit in the
     * queue), the node writes it with the highest stored counter: what the plugin sent and the node stored. Events
     * the plugin still held when killed are lost with the process; the log line says where the job's events stop.
     */
    private void closeEvents(long jobId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(EOF_WAIT_SECONDS);
        LaunchedJobStore.Events events;
        try {
            while ((events = store.events(jobId)).finalCounter() == null && System.nanoTime() < deadline && !closed) {
                Thread.sleep(200);
            }
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot check for its EOF: {}", jobId, e.getMessage());
            return;
        }
        if (events.finalCounter() != null || closed) return; // closing: the node stops, no time to wait
        LOG.warn("job {}: ansible-playbook ended without the plugin's EOF (killed, or it could not deliver); its events"
                + " end at counter {}: writing the EOF", jobId, events.lastCounter());
        String eof = DemoReplay.eof(jobId, (int) events.lastCounter());
        for (int attempt = 1; attempt <= EOF_ATTEMPTS; attempt++) {
            try {
                if (ownEvents.submit(eof).get(30, TimeUnit.SECONDS)) return;
            } catch (ExecutionException | TimeoutException e) {
                LOG.debug("job {}: EOF not stored yet: {}", jobId, e.toString());
            }
            Thread.sleep(1000);
        }
        LOG.error("job {}: could not store its EOF after {} attempts; its events stay open", jobId, EOF_ATTEMPTS);
    }

    private void environment(Map<String, String> env, long jobId) {
        env.put("ANSIBLE_STDOUT_CALLBACK", "jobstream");
        String plugins = env.get("ANSIBLE_CALLBACK_PLUGINS");
        env.put("ANSIBLE_CALLBACK_PLUGINS", pluginDir + (plugins == null || plugins.isEmpty() ? "" : ":" + plugins));
        env.put("ANSIBLE_FORCE_COLOR", "1");
        env.remove("ANSIBLE_NOCOLOR");
        env.remove("NO_COLOR");
        // Unbuffered, so stdout and stderr reach the output file in the order they were written (as on a terminal).
        env.put("PYTHONUNBUFFERED", "1");
        env.putIfAbsent("ANSIBLE_RETRY_FILES_ENABLED", "false");
        if (!isUtf8(env.get("LC_ALL")) && !isUtf8(env.get("LANG"))) env.put("LC_ALL", "C.UTF-8");
        env.put("JOBSTREAM_URL", nodeUri.get().toString());
        env.put("JOBSTREAM_JOB_ID", Long.toString(jobId));
        // good for this job's events only, revoked when the run ends (see end)
        env.put("JOBSTREAM_TOKEN", tokens.issue(jobId));
        Path ca = caFile.get();
        if (ca != null) env.put("JOBSTREAM_CA_FILE", ca.toString());
    }

    private static boolean isUtf8(String locale) {
        return locale != null && locale.toUpperCase().replace("-", "").contains("UTF8");
    }

    private void end(Run run, String status, String explanation) {
        synchronized (run) {
            if (run.done) return;
            run.done = true;
        }
        try {
            tokens.revoke(run.id);
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot revoke its ingest token (it expires on its own): {}", run.id, e.getMessage());
        }
        try {
            store.finished(run.id, status, explanation);
        } catch (RuntimeException e) {
            LOG.error("job {}: cannot store final status {}: {}", run.id, status, e.getMessage(), e);
        }
        listener.statusChanged(run.id, status, clock.instant());
        runs.remove(run.id);
        inFlight.decrementAndGet();
    }

    /** Cancels every waiting and running job and waits up to {@code deadline} for them to end. */
    public void close(Duration deadline) {
        if (closed) return;
        closed = true;
        for (Long id : List.copyOf(runs.keySet())) cancel(id);
        workers.shutdown();
        try {
            if (!workers.awaitTermination(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("launched jobs still running after {}; stopping them", deadline);
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        escalation.shutdownNow();
    }

    @Override
    public void close() {
        close(config.cancelGrace().multipliedBy(3));
    }
}
