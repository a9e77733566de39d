package io.jobstream.job;

import io.jobstream.event.CaptureLevel;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The job rows of jobs this node launches. Unlike jobs first seen through ingest, their final status is written here
 * by the launcher (from the ansible-playbook exit code or a cancel), never derived from their events.
 */
public interface LaunchedJobStore {
    /**
     * Creates a job in status {@code pending}, marked as launched and run by this node ({@code execution_node}), and
     * returns its id.
     *
     * @param ownerId the launching user (null: only admins see it, e.g. the demo)
     * @param teamId  a team to share it with at once, or null
     * @param capture the level its events are taken at (shown on the job)
     */
    long createLaunched(String name, String playbook, Long ownerId, Long teamId, CaptureLevel capture);

    /** Moves a pending job to {@code running} and sets {@code started}. */
    void started(long jobId);

    /**
     * Sets the final status, {@code failed}, {@code finished} and the explanation (empty when none) of a job not in a
     * final status yet; returns false, changing nothing, when it was final already (another node ended it: a cancel
     * of a node it took for dead, {@link #markLost}).
     */
    boolean finished(long jobId, String status, String explanation);

    /** What is stored of a job's events: the EOF's final counter (null before an EOF) and the highest stored counter. */
    record Events(Integer finalCounter, long lastCounter) {}

    Events events(long jobId);

    /**
     * A launched job not in a final status, the node that runs it (empty: launched before nodes were named), and
     * whether a cancel was asked for.
     */
    record Unfinished(long id, String status, String executionNode, boolean cancelFlag) {}

    /** Launched jobs not in a final status ({@code new}, {@code pending}, {@code waiting}, {@code running}), by id. */
    List<Unfinished> unfinished();

    /**
     * Sets the job's cancel flag if it is an unfinished launched job run by another node than {@code exceptNode}, and
     * returns it as it is then; else empty.
     */
    Optional<Unfinished> requestCancel(long jobId, String exceptNode);

    /** The job if it is an unfinished launched job. */
    Optional<Unfinished> unfinished(long jobId);

    /**
     * Sets the cancel flag of an unfinished launched job still under {@code node}, so that the node cancels its run
     * should it be alive after all, and returns the job as it was before (its cancel flag: whether a user had asked
     * for a cancel); else empty.
     */
    Optional<Unfinished> markLost(long jobId, String node);

    /** Which of these jobs have their cancel flag set (a cancel that reached another node). */
    List<Long> cancelRequested(Collection<Long> jobIds);
}
