package io.jobstream.demo;

import io.jobstream.job.JobRegistry;
import io.jobstream.time.Sleeper;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps sample jobs streaming for {@code serve --demo} when Ansible is not installed: creates a job, replays a
 * recorded real run into it through the HTTP ingest endpoint at the run's original pace (as an emitter would),
 * sends its EOF, waits a few seconds, and starts the next job, alternating between the recorded runs.
 *
 * <p>Going through ingest over HTTP, rather than handing events to the queue, exercises the whole path a real
 * job takes, so the demo's lag numbers mean the same as a real job's.
 *
 * <p>Owns one daemon thread, {@code demo-jobs}, started by {@link #start()} and stopped (interrupted and
 * joined) by {@link #close()}; both are idempotent. The server owns this object and closes it before stopping
 * ingest.
 */
public final class DemoJobs implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DemoJobs.class);
    static final Duration MAX_GAP = Duration.ofSeconds(2);
    static final Duration PAUSE_BETWEEN_JOBS = Duration.ofSeconds(3);
    private static final Duration ERROR_BACKOFF = Duration.ofSeconds(5);

    private final JobRegistry jobs;
    private final DemoReplay replay;
    private final DemoReplay.Sink sink;
    private final Sleeper sleeper;
    private List<DemoRecording.Run> runs; // loaded by the demo thread: constructors do no I/O
    private Thread thread;
    private boolean closed;

    /**
     * @param ingestUrl the full URL of {@code POST /api/v2/job_events/ingest/} on this node
     * @param tls       for an https node: a context that trusts the node's certificate
     * @param authorization the {@code Authorization} header for ingest (an emitter token), or null for none
     */
    public DemoJobs(URI ingestUrl, Optional<SSLContext> tls, String authorization, JobRegistry jobs, Clock clock) {
        // the HttpClient (and its selector thread) is made on first use, on the demo thread
        this(jobs, clock, Sleeper.REAL, new LazySink(ingestUrl, tls, authorization), null);
    }

    DemoJobs(JobRegistry jobs, Clock clock, Sleeper sleeper, DemoReplay.Sink sink, List<DemoRecording.Run> runs) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.sleeper = sleeper;
        this.sink = sink;
        this.replay = new DemoReplay(clock, sleeper, MAX_GAP);
        this.runs = runs;
    }

    /** An {@link IngestPoster} built on the first post, so that constructing DemoJobs starts nothing. */
    private static final class LazySink implements DemoReplay.Sink {
        private final URI ingestUrl;
        private final Optional<SSLContext> tls;
        private final String authorization;
        private IngestPoster poster; // only the demo thread posts

        LazySink(URI ingestUrl, Optional<SSLContext> tls, String authorization) {
            this.ingestUrl = Objects.requireNonNull(ingestUrl, "ingestUrl");
            this.tls = tls;
            this.authorization = authorization;
        }

        @Override
        public void post(String ndjson) throws InterruptedException {
            if (poster == null) {
                HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
                tls.ifPresent(client::sslContext);
                poster = new IngestPoster(ingestUrl, client.build(), Sleeper.REAL, authorization);
            }
            poster.post(ndjson);
        }
    }

    public synchronized void start() {
        if (thread != null || closed) return;
        thread = new Thread(this::run, "demo-jobs");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        Thread running;
        synchronized (this) {
            if (closed) return;
            closed = true;
            running = thread;
        }
        if (running == null) return;
        running.interrupt();
        try {
            running.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            if (runs == null) runs = DemoRecording.load();
            for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                playOne(runs.get(i % runs.size()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closed: leave quietly
        }
    }

    /** One job: create, replay, EOF, pause. Failures are logged and retried later, never end the demo. */
    void playOne(DemoRecording.Run run) throws InterruptedException {
        try {
            long id = jobs.create("demo: " + run.name(), run.name() + ".yml");
            LOG.info(
                    "demo job {} started: replaying the recorded '{}' run ({} events)",
                    id,
                    run.name(),
                    run.events().size());
            replay.play(run, id, sink);
            sleeper.sleep(PAUSE_BETWEEN_JOBS);
        } catch (InterruptedException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.warn("demo job for run '{}' failed; next attempt in {} s", run.name(), ERROR_BACKOFF.toSeconds(), e);
            sleeper.sleep(ERROR_BACKOFF);
        }
    }
}
