package io.jobstream.job;

import io.jobstream.event.CaptureLevel;
import java.util.UUID;

/** One launched job while it waits or runs, as {@link JobLauncher} tracks it. Guarded by its own monitor. */
final class LaunchedRun {
    final long id;
    /** The user whose share of the slots it takes (0: the node's own, such as the demo). */
    final long owner;
    /** Set in the environment of every process of the run (see {@link JobProcesses}). */
    final String marker = UUID.randomUUID().toString();
    /** The launch's capture level: its plugin's token carries it. */
    final CaptureLevel capture;

    Process process;
    JobProcesses processes;
    boolean cancelRequested;
    boolean done;

    LaunchedRun(long id, long owner, CaptureLevel capture) {
        this.id = id;
        this.owner = owner;
        this.capture = capture;
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
