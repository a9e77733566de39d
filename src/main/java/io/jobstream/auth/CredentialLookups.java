package io.jobstream.auth;

import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The store look-ups that tell who a request is (a user by name, a token, a session), each answered within a wait or
 * given up on.
 *
 * <p>Why: every authenticated request asks the store. A database that is down fails fast enough (the pool's error,
 * then {@link Authenticator}'s back-off), but one that stalls — a full disk, a lock, a stopped process — answers
 * nothing, and each request would hang with it: the doctor's own {@code GET /api/v2/diagnosis/} included, exactly when
 * it is needed. Run here and waited for at most {@code wait}, a stalled look-up becomes a {@link Slow}, which the
 * authenticator treats as a store failure (credentials verified recently keep working, others get 503). The look-up
 * itself carries on; when it answers, {@code onLateAnswer} runs, so the authenticator asks the store again at once
 * instead of waiting out its back-off.
 *
 * <p>Bounded: at most {@link #MAX_THREADS} look-ups run at once (the pool holds fewer connections anyway); one more is
 * refused at once with {@link Slow}, not queued. Idle threads end after a minute. Thread-safe; closed by its owner.
 */
final class CredentialLookups implements AutoCloseable {
    static final int MAX_THREADS = 32;

    /** The store did not answer within the wait, or every look-up thread is waiting for it already. */
    static final class Slow extends RuntimeException {
        Slow(String message) {
            super(message, null, false, false);
        }
    }

    private final Duration wait;
    private final Counter timeouts;
    private final Runnable onLateAnswer;
    private final ThreadPoolExecutor threads;

    /** @param timeouts counts every look-up answered with {@link Slow} ({@code auth_store_timeouts_total}) */
    CredentialLookups(Duration wait, Counter timeouts, Runnable onLateAnswer) {
        this.wait = wait;
        this.timeouts = timeouts;
        this.onLateAnswer = onLateAnswer;
        AtomicInteger n = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(0, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "auth-lookup-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** {@code lookup}'s answer; its own exception as it is; {@link Slow} when it took longer than the wait. */
    <T> T within(String what, Supplier<T> lookup) {
        AtomicBoolean gaveUp = new AtomicBoolean();
        Future<T> answer;
        try {
            answer = threads.submit(() -> {
                T found = lookup.get();
                if (gaveUp.get()) onLateAnswer.run(); // nobody waits for it any more; it says the store is back
                return found;
            });
        } catch (RejectedExecutionException e) {
            throw slow(MAX_THREADS + " look-ups are waiting for the store already; not asking about " + what);
        }
        try {
            try {
                return answer.get(wait.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                gaveUp.set(true);
                if (!answer.isDone()) throw slow("no answer within " + wait.toMillis() + " ms about " + what);
                return answer.get(); // it answered between the two
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw slow("interrupted while asking the store about " + what);
        }
    }

    private Slow slow(String message) {
        timeouts.increment();
        return new Slow(message);
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
