package io.jobstream.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node killed while it ran launched jobs (SIGKILL, the OOM killer, a supervisor's stop timeout) left behind,
 * dealt with by the next start on its data dir before anything is launched or served:
 * <ul>
 *   <li>its playbooks' processes run on (each job is a session of its own, outside the node's process group): found
 *       by the marker their environment carries, kept in {@code jobs/<id>/run-marker} while a run may have processes,
 *       and ended (SIGTERM, SIGKILL after {@code jobs.cancel-grace});
 *   <li>their jobs stay {@code running} or {@code pending} with no node to finish or cancel them: each gets its ingest
 *       tokens revoked (an orphaned plugin's late events are refused), an EOF after its last stored event (its events
 *       stop arriving), and status {@code error} with an explanation that names the node ({@code canceled} when a
 *       cancel had been asked for).
 * </ul>
 * Whose jobs: with the embedded database every unfinished launched job (that database lives in this data dir, which
 * one node holds at a time); with a shared one, those this data dir has a marker of, and those launched under this
 * node's name (a restart with the same {@code --node-name}). Jobs of another node that died stay as they are here.
 */
final class LeftoverRuns {
    // the launcher's logger: a job's log lines stay under one name
    private static final Logger LOG = LoggerFactory.getLogger(JobLauncher.class);

    private final LaunchedJobStore store;
    private final JobTokens tokens;
    private final EofWait eofWait;
    private final PlaybookCommand playbook;
    private final StatusListener listener;
    private final Clock clock;
    private final Duration grace;

    LeftoverRuns(
            LaunchedJobStore store,
            JobTokens tokens,
            EofWait eofWait,
            PlaybookCommand playbook,
            StatusListener listener,
            Clock clock,
            Duration grace) {
        this.store = store;
        this.tokens = tokens;
        this.eofWait = eofWait;
        this.playbook = playbook;
        this.listener = listener;
        this.clock = clock;
        this.grace = grace;
    }

    /**
     * Ends the processes and finishes the jobs an earlier node left; returns the ids of the jobs it finished.
     *
     * @param nodeName        this node's name
     * @param privateDatabase the database is the embedded one in this data dir: every unfinished launched job is ours
     */
    List<Long> end(String nodeName, boolean privateDatabase) throws InterruptedException {
        Set<Long> marked = endProcesses();
        List<LaunchedJobStore.Unfinished> left = new ArrayList<>();
        for (LaunchedJobStore.Unfinished job : store.unfinished()) {
            if (privateDatabase
                    || marked.contains(job.id())
                    || job.executionNode().equals(nodeName)) left.add(job);
        }
        List<Long> ids = left.stream().map(LaunchedJobStore.Unfinished::id).toList();
        if (!left.isEmpty()) {
            LOG.warn(
                    "{} launched job(s) left unfinished by an earlier node that was killed: marking them ended ({})",
                    left.size(),
                    ids);
        }
        for (LaunchedJobStore.Unfinished job : left) finish(job, marked.contains(job.id()));
        return ids;
    }

    /** Ends the processes of every run with a marker file here; returns those runs' job ids. */
    private Set<Long> endProcesses() throws InterruptedException {
        Set<Long> ids = new TreeSet<>();
        Path jobs = playbook.jobsDir();
        if (!Files.isDirectory(jobs)) return ids;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(jobs)) {
            for (Path dir : dirs) {
                long id;
                try {
                    id = Long.parseLong(dir.getFileName().toString());
                } catch (NumberFormatException notAJob) {
                    continue;
                }
                Path markerFile = playbook.markerFile(id);
                if (!Files.isRegularFile(markerFile)) continue;
                String marker =
                        Files.readString(markerFile, StandardCharsets.UTF_8).strip();
                if (!marker.isEmpty()) endProcesses(id, JobProcesses.byMarker(id, marker));
                playbook.removeRunFiles(id);
                ids.add(id);
            }
        } catch (IOException e) {
            LOG.warn("cannot look for runs left by an earlier node in {}: {}", jobs, e.toString());
        }
        return ids;
    }

    private void endProcesses(long id, JobProcesses processes) throws InterruptedException {
        List<Long> alive = processes.alive();
        if (alive.isEmpty()) return;
        LOG.warn(
                "job {}: left running by a node that was killed: ending its {} process(es) {}",
                id,
                alive.size(),
                alive);
        if (!processes.terminate(grace)) {
            LOG.error("job {}: processes {} survive SIGKILL (uninterruptible?)", id, processes.alive());
        }
    }

    /**
     * Finishes a job whose node is gone: its tokens revoked, its events closed if it ran, its final status
     * {@code canceled} when a cancel was asked for, else {@code error}, with why.
     */
    void finish(LaunchedJobStore.Unfinished job, boolean ran) throws InterruptedException {
        finish(job, ran, "stopped");
    }

    /** As {@link #finish}, for a job of a node with no heartbeat for {@code silent} (a node of a cluster lost). */
    void finishLost(LaunchedJobStore.Unfinished job, Duration silent) throws InterruptedException {
        finish(job, false, "was lost (no heartbeat for " + silent.toSeconds() + " s)");
    }

    private void finish(LaunchedJobStore.Unfinished job, boolean ran, String nodeWent) throws InterruptedException {
        long id = job.id();
        String node = job.executionNode().isEmpty() ? "unknown" : job.executionNode();
        boolean started = ran || job.status().equals("running");
        try {
            tokens.revoke(id);
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot revoke its ingest token (it expires on its own): {}", id, e.getMessage());
        }
        if (started) {
            try {
                long last = eofWait.closeNow(id);
                LOG.info("job {}: its events end at counter {}", id, last);
            } catch (RuntimeException e) {
                LOG.warn("job {}: cannot close its events: {}", id, e.getMessage());
            }
        }
        String explanation = started
                ? "the node running this job (" + node + ") " + nodeWent + " before it ended"
                : "the node it waited on (" + node + ") " + nodeWent + " before it started";
        String status = job.cancelFlag() ? "canceled" : "error";
        // two nodes may end one job at once (two cancels, or a cancel and the lost-node check): one status stands
        if (store.finished(id, status, job.cancelFlag() ? "canceled; " + explanation : explanation)) {
            listener.statusChanged(id, status, clock.instant());
        }
    }
}
