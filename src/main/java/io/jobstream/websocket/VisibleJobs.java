package io.jobstream.websocket;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which jobs' {@code jobs} messages ({@code status_changed}, {@code summary}) each user's websockets may receive: only
 * jobs the user may see, as AWX's UI would list them.
 *
 * <p>Design note. Those messages are delivered on the receiver's thread to every member of the group, so asking the
 * store per message and subscriber is out of the question. The answer per (user, job) is kept here, shared by all of
 * a user's connections on this node, and asked for once, off the delivering thread; frames that arrive while it is
 * asked wait in a list and go out in their order once it is known (so a job's {@code running} never overtakes its
 * {@code pending}). The answers are forgotten whenever access may have changed ({@link #forget}: on this node's own
 * changes at once, and periodically for other nodes'), and all at once when there are too many to keep. When the
 * store cannot answer, the frames are dropped and nothing is remembered: a status message is advisory, and a
 * subscriber that needs the truth reads the job. Dropped frames are counted ({@code ws.jobs.frames.dropped}) and
 * summed up in a WARN line at most once a minute, not one per frame: with the database down they come by the
 * thousand.
 *
 * <p>Thread-safe: {@link #deliver} runs on delivering threads, lookups on the given executor.
 */
final class VisibleJobs {
    private static final Logger log = LoggerFactory.getLogger(VisibleJobs.class);
    private static final int MAX_KNOWN = 100_000;
    private static final long WARN_EVERY_MILLIS = Duration.ofMinutes(1).toMillis();

    private record Key(long user, long job) {}

    private final BiPredicate<Long, Long> mayView;
    private final Executor lookups;
    private final WsMetrics metrics;
    private final Clock clock;
    private final Map<Key, Boolean> known = new ConcurrentHashMap<>();
    /** Frames waiting for their key's lookup; guarded by itself. */
    private final Map<Key, List<Runnable>> waiting = new HashMap<>();
    /** Frames dropped since the last WARN line, and when the next may be written; guarded by this. */
    private long droppedUnreported;

    private long nextWarnMillis = Long.MIN_VALUE;

    /**
     * @param mayView whether user (first) may see job (second); a store query
     * @param lookups where the queries run (never the delivering thread)
     * @param metrics counts the frames dropped because no lookup could answer
     * @param clock   paces the WARN line about dropped frames
     */
    VisibleJobs(BiPredicate<Long, Long> mayView, Executor lookups, WsMetrics metrics, Clock clock) {
        this.mayView = mayView;
        this.lookups = lookups;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Runs {@code send} (which only enqueues) if {@code user} may see the job {@code frame} is about, now or later. */
    void deliver(long user, String frame, Runnable send) {
        long job = jobOf(frame);
        if (job <= 0) {
            send.run(); // about no job in particular
            return;
        }
        Key key = new Key(user, job);
        Boolean visible = known.get(key);
        if (visible != null) {
            if (visible) send.run();
            return;
        }
        synchronized (waiting) {
            visible = known.get(key); // answered while this thread came here: the waiting frames went out already
            if (visible != null) {
                if (visible) send.run();
                return;
            }
            List<Runnable> queued = waiting.get(key);
            if (queued != null) {
                queued.add(send);
                return;
            }
            waiting.put(key, new ArrayList<>(List.of(send)));
        }
        try {
            lookups.execute(() -> answer(key));
        } catch (RejectedExecutionException stopping) {
            List<Runnable> dropped;
            synchronized (waiting) {
                dropped = waiting.remove(key);
            }
            if (dropped != null) dropped(WsMetrics.JOBS_STOPPING, dropped.size(), "the server is stopping");
        }
    }

    /** Forgets every answer: access may have changed (a share, a team, a user's admin flag). */
    void forget() {
        known.clear();
    }

    private void answer(Key key) {
        Boolean visible;
        String failure = null;
        try {
            visible = mayView.test(key.user(), key.job());
        } catch (RuntimeException e) {
            log.debug("cannot tell whether user {} may see job {} now: {}", key.user(), key.job(), e.toString());
            visible = null;
            failure = e.toString();
        }
        List<Runnable> queued;
        synchronized (waiting) {
            queued = waiting.remove(key);
            // sent under the lock, before the answer is published, so a later frame cannot overtake these
            if (Boolean.TRUE.equals(visible) && queued != null) queued.forEach(Runnable::run);
            if (visible != null) {
                if (known.size() >= MAX_KNOWN) known.clear();
                known.put(key, visible);
            }
        }
        if (failure != null && queued != null) dropped(WsMetrics.JOBS_LOOKUP_FAILED, queued.size(), failure);
    }

    /** Counts dropped frames; the first drop, and then at most one a minute, writes a WARN line with the sum. */
    private void dropped(String reason, int frames, String cause) {
        metrics.jobsDropped(reason, frames);
        long total;
        synchronized (this) {
            droppedUnreported += frames;
            long now = clock.millis();
            if (now < nextWarnMillis) return;
            nextWarnMillis = now + WARN_EVERY_MILLIS;
            total = droppedUnreported;
            droppedUnreported = 0;
        }
        log.warn(
                "dropped {} jobs messages (status_changed, summary) since the last such line: cannot tell who may see"
                        + " their jobs ({}); job lists in browsers miss these live updates until they poll again",
                total,
                cause);
    }

    /** The job a {@code jobs} message is about: its {@code unified_job_id}, or 0. */
    static long jobOf(String frame) {
        String field = "\"unified_job_id\":";
        int at = frame.indexOf(field);
        if (at < 0) return 0;
        long id = 0;
        int digits = 0;
        for (int i = at + field.length(); i < frame.length() && digits < 19; i++) {
            char c = frame.charAt(i);
            if (c == ' ' && digits == 0) continue;
            if (c < '0' || c > '9') break;
            id = id * 10 + (c - '0');
            digits++;
        }
        return id;
    }
}
