package io.jobstream.job;

import java.util.UUID;

/** One launched job while it waits or runs, as {@link JobLauncher} tracks it. Guarded by its own monitor. */
final class LaunchedRun {
    final long id;
    /** The user whose share of the slots it takes (0: the node's own, such as the demo). */
    final long owner;
    /** Set in the environment of every process of the run (see {@link JobProcesses}). */
    final String marker = UUID.randomUUID().toString();

    Process process;
    JobProcesses processes;
    boolean cancelRequested;
    boolean done;

    LaunchedRun(long id, long owner) {
        this.id = id;
        this.owner = owner;
    }

    synchronized boolean canceled() {
        return cancelRequested;
    }

    /** Marks the run ended; false when it already was (the final status is written once). */
    synchronized boolean markDone() {
        if (done) return false;
        done = true;
        return true;
    }
}
