package io.jobstream.job;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels that cross nodes. A launched job runs on the node that took the launch; behind a load balancer its cancel
 * may reach another. That node sets the job's {@code cancel_flag} ({@link #request}); the job's node reads the flags
 * of the runs it has every {@link #POLL_MILLIS} ms on a thread of its own ({@code job-cancel-flags}: a database that stalls
 * delays these reads, never a running cancel's SIGTERM and SIGKILL) and cancels them. The job rows are the channel,
 * not Redis pub/sub, so a request is not lost to a subscription that is down. A node that is dead cannot carry a
 * cancel out: the job is ended where the request arrived, as {@link LeftoverRuns} ends a killed node's jobs.
 */
final class CrossNodeCancels implements AutoCloseable {
    // the launcher's logger: a job's log lines stay under one name
    private static final Logger LOG = LoggerFactory.getLogger(JobLauncher.class);
    static final long POLL_MILLIS = 1_000;

    private final LaunchedJobStore store;
    private final JobLauncher.Peers peers;
    private final LeftoverRuns leftovers;
    private final Supplier<Collection<Long>> runningHere;
    private final LongPredicate cancelHere;
    private final ScheduledExecutorService timer;

    /**
     * @param runningHere the ids of the runs this node has (waiting or running)
     * @param cancelHere  cancels one of them; false when it has ended or was canceled already
     */
    CrossNodeCancels(
            LaunchedJobStore store,
            JobLauncher.Peers peers,
            LeftoverRuns leftovers,
            Supplier<Collection<Long>> runningHere,
            LongPredicate cancelHere) {
        this.store = store;
        this.peers = peers;
        this.leftovers = leftovers;
        this.runningHere = runningHere;
        this.cancelHere = cancelHere;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "job-cancel-flags");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts reading the flags; with the embedded database there is no other node, and nothing to read. */
    CrossNodeCancels start() {
        if (!peers.privateDatabase()) {
            timer.scheduleWithFixedDelay(this::cancelFlagged, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** A cancel of a job this node does not have: asked of its node, or carried out here when that node is dead. */
    JobLauncher.Elsewhere request(long jobId) {
        // not this node's own: one that is not here ended a moment ago (or is being created); nothing to ask anyone
        Optional<LaunchedJobStore.Unfinished> job = store.requestCancel(jobId, peers.self());
        if (job.isEmpty()) return JobLauncher.Elsewhere.NOT_RUNNING;
        String node = job.get().executionNode();
        if (peers.alive().test(node)) {
            LOG.info("job {}: cancel asked for; node {} runs it and carries it out", jobId, node);
            return JobLauncher.Elsewhere.ASKED;
        }
        LOG.warn("job {}: cancel asked for; node {} that ran it has stopped: ending the job here", jobId, node);
        try {
            leftovers.finish(job.get(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return JobLauncher.Elsewhere.ENDED;
    }

    /** Whether the job is an unfinished launched job of any node. */
    boolean unfinished(long jobId) {
        return store.unfinished(jobId).isPresent();
    }

    private void cancelFlagged() {
        List<Long> here = List.copyOf(runningHere.get());
        if (here.isEmpty()) return;
        try {
            for (long id : store.cancelRequested(here)) {
                if (cancelHere.test(id)) LOG.info("job {}: canceled through another node", id);
            }
        } catch (RuntimeException e) {
            LOG.debug("cannot read cancel flags: {}", e.toString()); // the next read tries again
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
