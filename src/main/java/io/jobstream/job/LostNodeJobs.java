package io.jobstream.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In a cluster, the launched jobs of a node that stopped for good (its machine gone, never started again) would stay
 * {@code running} or {@code pending} forever: only that node's next start ({@link LeftoverRuns}) or a cancel ends
 * them. Every node therefore looks, every few seconds on a thread of its own ({@code job-lost-nodes}), at the
 * unfinished launched jobs of other nodes; a node with no heartbeat for {@code jobs.lost-node-timeout} on every look
 * in between is lost, and its jobs are ended here as {@link LeftoverRuns} ends a killed node's ({@code error}, the
 * explanation naming the node; {@code canceled} when a cancel had been asked for).
 *
 * <p>Why a timeout well above {@code redis.node-timeout}: a node that is only slow (a long GC pause) or cut off from
 * Redis alone keeps running its jobs; ending them revokes their plugins' tokens, losing the events still coming. A
 * look at Redis that fails counts as alive (never end jobs on a guess), so a Redis outage ends nothing. Should the node
 * be alive after all, the cancel flag set on its jobs makes it cancel their runs within a second, and its own final
 * status does not overwrite the one set here.
 */
final class LostNodeJobs implements AutoCloseable {
    // the launcher's logger: a job's log lines stay under one name
    private static final Logger LOG = LoggerFactory.getLogger(JobLauncher.class);
    private static final long LOOK_AT_MOST_MILLIS = 5_000;

    private final LaunchedJobStore store;
    private final JobLauncher.Peers peers;
    private final LeftoverRuns leftovers;
    private final Duration timeout;
    private final LongSupplier nanoTime;
    /** Since when each other node with unfinished jobs has been seen without a heartbeat; only the timer thread. */
    private final Map<String, Long> silentSince = new HashMap<>();

    private ScheduledExecutorService timer;

    /** @param timeout how long a node must have had no heartbeat to be lost; zero: never */
    LostNodeJobs(
            LaunchedJobStore store,
            JobLauncher.Peers peers,
            LeftoverRuns leftovers,
            Duration timeout,
            LongSupplier nanoTime) {
        this.store = store;
        this.peers = peers;
        this.leftovers = leftovers;
        this.timeout = timeout;
        this.nanoTime = nanoTime;
    }

    /** Starts looking; with the embedded database there is no other node, and with a zero timeout nothing to do. */
    LostNodeJobs start() {
        if (peers.privateDatabase() || timeout.isZero()) return this;
        long every = Math.max(100, Math.min(LOOK_AT_MOST_MILLIS, timeout.toMillis() / 4));
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "job-lost-nodes");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::lookSafely, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    private void lookSafely() {
        try {
            look();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.debug("cannot look for jobs of lost nodes: {}", e.toString()); // the next look tries again
        }
    }

    /** One look: notes which nodes are silent, and ends the jobs of those silent for the whole timeout. */
    void look() throws InterruptedException {
        Map<String, List<LaunchedJobStore.Unfinished>> byNode = new LinkedHashMap<>();
        for (LaunchedJobStore.Unfinished job : store.unfinished()) {
            String node = job.executionNode();
            // empty: launched before nodes were named, by a node of which nothing is known
            if (!node.isEmpty() && !node.equals(peers.self())) {
                byNode.computeIfAbsent(node, n -> new ArrayList<>()).add(job);
            }
        }
        silentSince.keySet().retainAll(byNode.keySet());
        long now = nanoTime.getAsLong();
        for (Map.Entry<String, List<LaunchedJobStore.Unfinished>> e : byNode.entrySet()) {
            String node = e.getKey();
            if (peers.alive().test(node)) {
                silentSince.remove(node);
                continue;
            }
            long since = silentSince.computeIfAbsent(node, n -> now);
            if (now - since < timeout.toNanos()) continue;
            LOG.warn(
                    "node {} has had no heartbeat for {} s (jobs.lost-node-timeout): ending its {} launched job(s)"
                            + " here",
                    node,
                    timeout.toSeconds(),
                    e.getValue().size());
            for (LaunchedJobStore.Unfinished job : e.getValue()) {
                // still that node's and unfinished, read again under a row lock: a cancel or a restart may have come
                var lost = store.markLost(job.id(), node);
                if (lost.isPresent()) leftovers.finishLost(lost.get(), timeout);
            }
            silentSince.remove(node);
        }
    }

    @Override
    public void close() {
        if (timer != null) timer.shutdownNow();
    }
}
