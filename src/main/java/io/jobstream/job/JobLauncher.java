package io.jobstream.job;

import io.jobstream.config.Config.JobsConfig;
import io.jobstream.event.Redactor;
import io.jobstream.limit.Rate;
import io.jobstream.metrics.Metrics;
import io.jobstream.time.Sleeper;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs launched jobs: one {@code ansible-playbook} process per job with the jobstream callback plugin, which sends
 * the job's events back to this node over HTTP ingest like any other emitter.
 *
 * <p>Lifecycle of a job: {@link #launch} checks the fields, creates the row ({@code pending}) and queues the run in
 * {@link FairSlots} (a per-user share of the running slots and of the waiting room: 429 when the user has
 * {@code jobs.max-pending-per-user} waiting, 503 when {@code jobs.max-pending} wait in all). When its turn comes a
 * worker thread ({@code job-launcher-N}, at most {@code jobs.max-running}) marks it {@code running}, starts the
 * process with its terminal output (stdout and stderr, merged as on a terminal) going to
 * {@code <data-dir>/jobs/<id>/stdout}, waits for it, ends whatever of the job is still running
 * ({@link JobProcesses}), lets {@link EofWait} see the job's EOF stored (or write it), and writes the final status
 * by {@link ExitStatus}; only then is the slot free.
 * {@link #cancel} sends SIGINT to all of the job's processes (ansible-playbook then stops its workers and exits, and
 * the plugin sends its EOF), SIGTERM after {@code jobs.cancel-grace}, and SIGKILL after as long again; a job
 * canceled before it started never starts.
 *
 * <p>What a user passes is data, never code (see docs/OPERATIONS.md, "Launching: the threat model"): the fields are
 * checked by {@link LaunchFields}, and {@link PlaybookCommand} builds the command line, files and environment.
 *
 * <p>Status changes go to the store first, then to the {@link StatusListener} (websocket {@code status_changed}).
 * Thread-safe. {@link #close()} cancels what runs and waits for it (bounded), so the plugin can still deliver its
 * tail while ingest is open: the server closes the launcher before ingest.
 */
public final class JobLauncher implements AutoCloseable {
    /** How long the redacted transcript may take to get its last lines once the job's processes have ended. */
    private static final Duration TRANSCRIPT_GRACE = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(JobLauncher.class);

    private final JobsConfig config;
    private final PlaybookCommand playbook;
    private final PlaybookDir playbooks;
    private final LaunchedJobStore store;
    private final StatusListener listener;
    private final Clock clock;
    private final JobTokens tokens;
    private final EofWait eofWait;
    private final Map<Long, LaunchedRun> runs = new ConcurrentHashMap<>();
    /** Guarded by itself. */
    private final FairSlots<LaunchedRun> slots;
    /** Refused launches by the tag of {@code jobs.refused}: the FairSlots refusals and {@code rate}. */
    private final Map<String, AtomicLong> refused = new TreeMap<>();

    private final Rate rate; // null: no limit
    private final ExecutorService workers;
    private final ScheduledExecutorService escalation;
    private volatile boolean closed;
    /** Set by {@link #join}; null until then (tests that run one launcher alone). */
    private volatile CrossNodeCancels crossNode;
    /** Set by {@link #join}, as {@link #crossNode}. */
    private volatile LostNodeJobs lostNodes;

    /**
     * @param nodeUri this node's base URL, for the plugin's {@code JOBSTREAM_URL}
     * @param caFile  the node's TLS certificate file for the plugin to trust ({@code JOBSTREAM_CA_FILE}), or a
     *                supplier of null when the node serves plain HTTP or a CA-signed certificate
     * @param tokens  issues each run's ingest token (the plugin's {@code JOBSTREAM_TOKEN}) and revokes it at the end
     * @param ownEvents writes the EOF of a run whose plugin could not (see {@link EofWait})
     * @param redactor  the operator's redaction patterns, applied to each job's terminal transcript
     */
    public JobLauncher(
            JobsConfig config,
            Path dataDir,
            Supplier<URI> nodeUri,
            Supplier<Path> caFile,
            LaunchedJobStore store,
            StatusListener listener,
            Clock clock,
            JobTokens tokens,
            OwnEvents ownEvents,
            Redactor redactor) {
        this(
                config,
                new PlaybookCommand(config, dataDir, nodeUri, caFile, tokens, redactor),
                store,
                listener,
                clock,
                Sleeper.REAL,
                tokens,
                ownEvents);
    }

    /** As above, with the command builder and the time to wait on given (tests: a manual clock that the sleeper moves). */
    JobLauncher(
            JobsConfig config,
            PlaybookCommand playbook,
            LaunchedJobStore store,
            StatusListener listener,
            Clock clock,
            Sleeper sleeper,
            JobTokens tokens,
            OwnEvents ownEvents) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.config = Objects.requireNonNull(config, "config");
        this.playbook = playbook;
        this.playbooks = playbook.playbooks();
        this.store = store;
        this.listener = listener;
        this.clock = clock;
        this.eofWait = new EofWait(store, Objects.requireNonNull(ownEvents, "ownEvents"), clock, sleeper, () -> closed);
        this.slots = new FairSlots<>(
                config.maxRunning(), config.maxRunningPerUser(), config.maxPending(), config.maxPendingPerUser());
        for (FairSlots.Refusal r : FairSlots.Refusal.values()) refused.put(r.tag, new AtomicLong());
        refused.put(RATE, new AtomicLong());
        // at most the setting in any minute per user (a sliding window: the setting's doc promises "any minute")
        this.rate = config.maxLaunchesPerMinute() <= 0
                ? null
                : Rate.window(
                        config.maxLaunchesPerMinute(),
                        Duration.ofMinutes(1),
                        MAX_RATED_USERS,
                        () -> TimeUnit.MILLISECONDS.toNanos(clock.millis()),
                        refused.get(RATE)::addAndGet);
        AtomicInteger n = new AtomicInteger();
        // a task is queued only for a job that holds a slot, so the queue never holds more than maxRunning
        this.workers = new ThreadPoolExecutor(
                config.maxRunning(),
                config.maxRunning(),
                0,
                TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(config.maxRunning()),
                r -> daemon(r, "job-launcher-" + n.incrementAndGet()));
        this.escalation = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "job-cancel"));
    }

    /** Daemons, so that a stuck job never holds the JVM. */
    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Counts refused launches ({@code jobs.refused{reason}}) and shows running and waiting jobs. */
    public JobLauncher bindTo(MeterRegistry registry) {
        refused.forEach((reason, count) -> FunctionCounter.builder(Metrics.JOBS_REFUSED, count, AtomicLong::get)
                .tag("reason", reason)
                .description("Launches refused: waiting room full, or over the launch rate")
                .register(registry));
        FunctionCounter.builder(
                        Metrics.JOBS_PRIORITY_FAILED, playbook.priority().failed(), AtomicLong::get)
                .description("Launched jobs whose session's autogroup could not be given jobs.nice")
                .register(registry);
        Gauge.builder(Metrics.JOBS_RUNNING, this, l -> l.slotCounts()[0]).register(registry);
        Gauge.builder(Metrics.JOBS_PENDING, this, l -> l.slotCounts()[1]).register(registry);
        return this;
    }

    private int[] slotCounts() {
        synchronized (slots) {
            return new int[] {slots.running(), slots.pending()};
        }
    }

    /** Writes the plugin under the data dir. */
    public JobLauncher start() {
        playbook.extractPlugin();
        LOG.info("{}", playbook.priority().describe());
        if (!Files.isDirectory(playbooks.path())) {
            LOG.warn("playbook directory {} does not exist: launching jobs will fail until it does", playbooks.path());
        }
        return this;
    }

    /**
     * The nodes that share this node's database: its own name, whether the database is the embedded one in its data
     * dir (then there are none), and how it tells whether another node is alive (its heartbeat; true when it cannot
     * tell).
     */
    public record Peers(String self, boolean privateDatabase, Predicate<String> alive) {}

    /** How a cancel of a job this node does not run went ({@link #cancelElsewhere}). */
    public enum Elsewhere {
        /** no unfinished launched job of another node: nothing to cancel */
        NOT_RUNNING,
        /** its node, alive, cancels it within about a second (it reads the job's cancel flag) */
        ASKED,
        /** its node is dead: canceled here, its row, tokens and events */
        ENDED
    }

    /**
     * Before the first launch and before HTTP serves: ends the processes and finishes the jobs that a node killed
     * while it ran them left behind ({@link LeftoverRuns}), and, with a shared database, starts carrying out cancels
     * that reached other nodes ({@link CrossNodeCancels}) and ending the jobs of nodes lost ({@link LostNodeJobs}).
     */
    public JobLauncher join(Peers peers) {
        LeftoverRuns leftovers =
                new LeftoverRuns(store, tokens, eofWait, playbook, listener, clock, config.cancelGrace());
        try {
            leftovers.end(peers.self(), peers.privateDatabase());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        crossNode = new CrossNodeCancels(store, peers, leftovers, runs::keySet, this::cancelFresh).start();
        lostNodes = new LostNodeJobs(store, peers, leftovers, config.lostNodeTimeout(), System::nanoTime).start();
        return this;
    }

    /**
     * A cancel for a job this node does not run ({@link #cancel} said false): its node is asked to carry it out, or,
     * when that node is dead, the job is ended here as canceled (its processes, on that node's machine, end when it
     * starts again on its data dir).
     */
    public Elsewhere cancelElsewhere(long jobId) {
        CrossNodeCancels c = crossNode;
        return c == null ? Elsewhere.NOT_RUNNING : c.request(jobId);
    }

    /** AWX's {@code can_cancel}: this node runs or holds the job, or it is an unfinished launched job of another. */
    public boolean canCancel(long jobId) {
        CrossNodeCancels c = crossNode;
        return isActive(jobId) || (c != null && c.unfinished(jobId));
    }

    /** Cancels a run not canceled yet; false when there is no such run. */
    private boolean cancelFresh(long jobId) {
        LaunchedRun run = runs.get(jobId);
        return run != null && !run.canceled() && cancel(jobId);
    }

    public Path playbookDir() {
        return playbooks.path();
    }

    /** Where the terminal output of job {@code id}'s process is kept. */
    public Path outputFile(long jobId) {
        return playbook.outputFile(jobId);
    }

    /** Whether {@code jobs.ansible-playbook} can be run here (on PATH, or an executable path). */
    public boolean ansibleAvailable() {
        return playbook.ansibleAvailable();
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
        // requests parsed from HTTP are checked already; the node's own (demo, tests) pass the same gate
        PlaybookCommand.Checked checked = playbook.check(request);
        long owner = ownerId == null ? 0 : ownerId;
        LaunchedRun run;
        // Admission, row and queueing under one lock so that two launches cannot both take the last place; a launch
        // is rare and its insert short, and nothing else waits on this lock for long.
        synchronized (slots) {
            admit(owner);
            String name = request.name().isEmpty() ? request.playbook() : request.name();
            long id = store.createLaunched(
                    name,
                    playbooks.path().relativize(checked.playbook()).toString(),
                    ownerId,
                    teamId,
                    request.capture());
            run = new LaunchedRun(id, owner, request.capture());
            runs.put(id, run);
            commands.put(id, new Start(playbook.command(id, checked, request), checked.extraVarsYaml()));
            // before it can start (a slot freeing on another thread dispatches), so "pending" comes before "running"
            listener.statusChanged(id, "pending", null);
            if (slots.add(owner, run) != null) throw new IllegalStateException("admitted, then refused"); // a bug
        }
        dispatch();
        return run.id;
    }

    private static final String RATE = "rate";
    /** Users whose recent launches are remembered; see {@link Rate} for which are forgotten beyond. */
    private static final int MAX_RATED_USERS = 10_000;

    /** What a queued run starts with, kept until its turn. */
    private record Start(List<String> command, String extraVarsYaml) {}

    private final Map<Long, Start> commands = new ConcurrentHashMap<>();

    /** Throws the refusal (429 or 503, counted) when {@code owner}'s launch may not queue now. Holds the slots lock. */
    private void admit(long owner) {
        FairSlots.Refusal refusal = slots.admits(owner);
        if (refusal == null) {
            long wait = rate == null ? 0 : rate.take(Long.toString(owner), 1);
            if (wait == 0) return;
            throw new LaunchException(
                    429,
                    "you launched " + config.maxLaunchesPerMinute() + " jobs in the last minute;" + " try again in "
                            + wait + " s (jobs.max-launches-per-minute=" + config.maxLaunchesPerMinute() + ")",
                    wait);
        }
        refused.get(refusal.tag).incrementAndGet();
        throw LaunchException.refused(refusal, slots.of(owner), config);
    }

    /** Starts every queued run whose turn it is (see {@link FairSlots}); called when a run queues or a slot frees. */
    private void dispatch() {
        while (true) {
            LaunchedRun next;
            synchronized (slots) {
                next = slots.next();
            }
            if (next == null) return;
            Start start = commands.remove(next.id); // never null: it is put before the run queues, removed only here
            try {
                workers.execute(() -> {
                    try {
                        run(next, start.command(), start.extraVarsYaml());
                    } finally {
                        synchronized (slots) {
                            slots.release(next.owner);
                        }
                        dispatch();
                    }
                });
            } catch (RuntimeException e) { // rejected: the pool is shut down
                synchronized (slots) {
                    slots.release(next.owner);
                }
                end(next, "error", "the node stopped before the job started");
            }
        }
    }

    /**
     * Asks a job to stop. A waiting job is canceled at once; a running one gets SIGINT now, SIGTERM and SIGKILL
     * later if it is still alive. Returns false when this node is not running the job (unknown, or already ended).
     */
    public boolean cancel(long jobId) {
        LaunchedRun run = runs.get(jobId);
        if (run == null) return false;
        Process p;
        JobProcesses all;
        synchronized (run) {
            if (run.done || run.cancelRequested) return !run.done;
            run.cancelRequested = true;
            p = run.process;
            all = run.processes;
        }
        if (p == null) {
            boolean waiting;
            synchronized (slots) {
                waiting = slots.remove(
                        run.owner, run); // false: it holds a slot and is starting; its worker sees the cancel
            }
            if (waiting) commands.remove(jobId);
            end(run, "canceled", "canceled before it started");
            return true;
        }
        LOG.info("canceling job {}: SIGINT to ansible-playbook pid {} and its process group", jobId, p.pid());
        all.cancel(escalation, config.cancelGrace());
        return true;
    }

    /** Whether this node has the job waiting or running. */
    public boolean isActive(long jobId) {
        LaunchedRun run = runs.get(jobId);
        if (run == null) return false;
        synchronized (run) {
            return !run.done;
        }
    }

    private void run(LaunchedRun run, List<String> command, String extraVars) {
        Process process;
        PlaybookCommand.Started started;
        try {
            synchronized (run) {
                if (run.cancelRequested || run.done) return;
                started = playbook.start(run.id, run.marker, run.capture, command, extraVars);
                process = started.process();
                run.process = process;
                run.processes = new JobProcesses(run.id, process.pid(), run.marker);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("job {}: cannot start {}: {}", run.id, config.ansiblePlaybook(), e.getMessage());
            end(run, "error", "cannot start " + config.ansiblePlaybook() + ": " + e.getMessage());
            return;
        }
        store.started(run.id);
        listener.statusChanged(run.id, "running", null);
        LOG.info("job {}: started ansible-playbook pid {}: {}", run.id, process.pid(), String.join(" ", command));
        playbook.priority().apply(run.id, process); // may wait out the kernel's rate limit: after "running" is told
        int exit;
        try {
            exit = run.processes.waitForAll(process, config.cancelGrace());
            started.awaitTranscript(TRANSCRIPT_GRACE);
        } catch (InterruptedException e) { // only close() interrupts; the processes are killed
            Thread.currentThread().interrupt();
            end(run, "error", "the node stopped while the job ran");
            return;
        }
        String status = ExitStatus.of(exit, run.canceled());
        String explanation = ExitStatus.explanation(status, exit);
        LOG.info("job {}: ansible-playbook exited with code {}: {}", run.id, exit, status);
        try {
            eofWait.closeEvents(run.id);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        end(run, status, explanation);
    }

    private void end(LaunchedRun run, String status, String explanation) {
        if (!run.markDone()) return;
        playbook.removeRunFiles(run.id); // none of its processes runs any more (or it never started: nothing to delete)
        try {
            tokens.revoke(run.id);
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot revoke its ingest token (it expires on its own): {}", run.id, e.getMessage());
        }
        boolean stored = true;
        try {
            stored = store.finished(run.id, status, explanation);
        } catch (RuntimeException e) {
            LOG.error("job {}: cannot store final status {}: {}", run.id, status, e.getMessage(), e);
        }
        if (stored) {
            listener.statusChanged(run.id, status, clock.instant());
        } else { // another node took this one for lost (no heartbeat of it reached Redis) and ended the job
            LOG.warn(
                    "job {}: ended by another node meanwhile (this node was taken for lost); it stays as it was",
                    run.id);
        }
        runs.remove(run.id);
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
        if (crossNode != null) crossNode.close();
        if (lostNodes != null) lostNodes.close();
    }

    @Override
    public void close() {
        close(config.cancelGrace().multipliedBy(3));
    }
}
