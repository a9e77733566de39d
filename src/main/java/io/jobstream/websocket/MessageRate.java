package io.jobstream.websocket;

import io.jobstream.limit.Rate;
import java.time.Duration;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The incoming message limit of one connection (or, weighted by the jobs a message names, of one user's subscribes):
 * at most {@code perSecond} in any second, a sliding {@link Rate#window} of one key. A message alone in its window
 * always passes, so that a limit below one message's weight slows it rather than refusing it for ever.
 * Thread-safe (the {@link Rate}'s lock).
 */
final class MessageRate {
    private static final String KEY = "";
    private final Rate rate; // null: no limit

    /** @param perSecond 0 = no limit */
    MessageRate(int perSecond, LongSupplier nanoTime) {
        this(perSecond, nanoTime, refused -> {});
    }

    /** @param refused counts each refused message (its metric) */
    MessageRate(int perSecond, LongSupplier nanoTime, LongConsumer refused) {
        this.rate = perSecond <= 0 ? null : Rate.window(perSecond, Duration.ofSeconds(1), 1, nanoTime, refused);
    }

    /** Whether one more message may be handled now. */
    boolean admit() {
        return admit(1);
    }

    /** Whether a message of this weight (e.g. the jobs it names) may be handled now. */
    boolean admit(int weight) {
        return rate == null || rate.admit(KEY, weight);
    }
}
