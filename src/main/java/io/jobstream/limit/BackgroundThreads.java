package io.jobstream.limit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Threads for work nobody watches live — password hashes, run-model builds, retention, the doctor's sampling — that
 * run {@value #NICE} nice levels below the node's own, so that when the node's cores are all busy the critical path (ingest, the receiver,
 * the broadcast, websocket writes, REST) gets them first and this work takes what is left. Nice never leaves a core
 * idle: on a quiet node these threads run as fast as before.
 *
 * <p>Why a thread's nice and not something else: Linux weighs the threads of one process (one scheduler autogroup) by
 * their nice, and a thread may raise its own nice without privilege (lowering it back would need one: so a thread is
 * niced for life, never for one task). Java has no call for it; {@code renice(1)} (util-linux, essential in Debian)
 * on the thread's id, read from {@code /proc/thread-self}, once when the thread starts (a few milliseconds). Where
 * that fails (not Linux, no renice) the thread runs at the node's priority and the node logs it once.
 */
public final class BackgroundThreads {
    private static final Logger log = LoggerFactory.getLogger(BackgroundThreads.class);
    /** About a tenth of a normal thread's weight when the cores are contended (weights 110 against 1,024). */
    public static final int NICE = 10;

    private static final AtomicBoolean warned = new AtomicBoolean();

    private BackgroundThreads() {}

    /** A daemon thread, not started, that lowers its own priority before it runs {@code task}. */
    public static Thread newThread(Runnable task, String name) {
        Thread t = new Thread(
                () -> {
                    lowerCurrent();
                    task.run();
                },
                name);
        t.setDaemon(true);
        return t;
    }

    /** Daemon threads {@value #NICE} nice levels below the node, named {@code name} (or {@code name-N} when {@code numbered}). */
    public static ThreadFactory factory(String name, boolean numbered) {
        AtomicInteger n = new AtomicInteger();
        return r -> newThread(r, numbered ? name + "-" + n.incrementAndGet() : name);
    }

    /**
     * Raises the calling thread's nice by {@value #NICE} (up to 19): 10 when the node runs at 0, the usual case. True
     * when it is that now.
     */
    static boolean lowerCurrent() {
        String tid;
        try {
            tid = Files.readSymbolicLink(Path.of("/proc/thread-self"))
                    .getFileName()
                    .toString();
        } catch (IOException | UnsupportedOperationException e) {
            warnOnce("cannot find this thread's id (" + e + ")");
            return false;
        }
        Integer before = niceOf(tid);
        if (before == null) {
            warnOnce("cannot read this thread's nice");
            return false;
        }
        int target = Math.min(19, before + NICE);
        try {
            Process p = new ProcessBuilder("renice", "-n", Integer.toString(target), "-p", tid)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                warnOnce("renice did not finish within 10 s");
                return false;
            }
        } catch (IOException e) {
            warnOnce("cannot run renice (" + e.getMessage() + ")");
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        Integer now = niceOf(tid);
        if (now == null || now != target) {
            warnOnce("renice left it at " + now);
            return false;
        }
        return true;
    }

    /** The nice of one of this process's threads, from /proc (field 19 of stat), or null. */
    static Integer niceOf(String tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task", tid, "stat"), StandardCharsets.ISO_8859_1);
            return Integer.valueOf(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static void warnOnce(String why) {
        if (warned.compareAndSet(false, true)) {
            log.warn(
                    "background threads (password hashes, run models, retention, diagnosis) run at the node's own"
                            + " priority, not {} nice levels below it: {}",
                    NICE,
                    why);
        }
    }
}
