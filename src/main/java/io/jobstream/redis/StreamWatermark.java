package io.jobstream.redis;

import io.jobstream.queue.Watermark;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamGroupInfo;
import redis.clients.jedis.resps.StreamPendingSummary;

/**
 * The event stream's low watermark ({@link Watermark}), looked up by one thread of its own every {@link #EVERY} so
 * that subscribers only read a volatile.
 *
 * <p>Design note. A stream entry's id starts with the Redis clock's millisecond at XADD. The oldest entry still
 * uncommitted is the older of the oldest one pending in the group (read by a node, live or dead, and not yet
 * acknowledged) and the first one after the group's last-delivered id (not read yet); every entry whose millisecond
 * is below it has been committed. The looks run in that order (TIME, then last-delivered, then the first undelivered,
 * then the oldest pending), so that an entry moving from undelivered to pending meanwhile is seen in one of them; when
 * none is uncommitted, everything added before the TIME taken first is committed. A {@link #mark()} is this node's
 * estimate of the Redis clock now: the last TIME plus the time passed since that look was sent, which can only be
 * ahead of Redis, never behind (so nothing added before the mark is left out), whatever the clocks of the two hosts say.
 * Until a look succeeds (Redis down), nothing counts as committed: subscribers keep waiting rather than skip.
 */
public final class StreamWatermark implements Watermark, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamWatermark.class);
    static final Duration EVERY = Duration.ofMillis(100);

    /** One look: the Redis clock when it was taken (and when, on this node's clock), and the watermark. */
    record Look(long redisMillis, long sentNanos, long lowMillis) {}

    private final RedisClient redis;
    private final Thread thread;
    private volatile Look last;
    /** Looks taken by the thread, for tests that wait for the next one; written by the watermark thread only. */
    private volatile long looks;

    private volatile boolean closed;
    private boolean failing;

    public StreamWatermark(RedisConnection redis) {
        this.redis = redis.client();
        this.thread = new Thread(this::run, "jobstream-watermark");
        thread.setDaemon(true);
    }

    /** Takes the first look before returning (so that marks are Redis' clock from the start), then keeps looking. */
    public StreamWatermark start() {
        try {
            last = look();
        } catch (RuntimeException e) {
            log.warn("could not read the event stream's watermark ({}); holes are not skipped meanwhile", e.toString());
            failing = true;
        }
        thread.start();
        return this;
    }

    private void run() {
        while (!closed) {
            try {
                last = look();
                looks++;
                failing = false;
            } catch (RuntimeException e) {
                if (!failing)
                    log.warn(
                            "could not read the event stream's watermark ({}); holes are not skipped meanwhile",
                            e.toString());
                failing = true;
            }
            try {
                Thread.sleep(EVERY.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    long looks() {
        return looks;
    }

    /** Package-private for tests: one look now. */
    Look look() {
        long sent = System.nanoTime();
        long now = redisMillis();
        long low = now;
        StreamEntryID delivered = lastDelivered();
        if (delivered != null) {
            List<StreamEntry> undelivered = redis.xrange(RedisKeys.EVENTS, "(" + delivered, "+", 1);
            if (!undelivered.isEmpty())
                low = Math.min(low, undelivered.get(0).getID().getTime());
            StreamPendingSummary pending = redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP);
            if (pending.getTotal() > 0 && pending.getMinId() != null)
                low = Math.min(low, pending.getMinId().getTime());
        }
        return new Look(now, sent, low);
    }

    private long redisMillis() {
        @SuppressWarnings("unchecked")
        List<Object> time = (List<Object>) redis.sendCommand(Protocol.Command.TIME);
        long seconds = Long.parseLong(text(time.get(0)));
        long micros = Long.parseLong(text(time.get(1)));
        return seconds * 1000 + micros / 1000;
    }

    private static String text(Object o) {
        return o instanceof byte[] b ? new String(b, StandardCharsets.US_ASCII) : String.valueOf(o);
    }

    /** The group's last-delivered id; null when there is no stream or group yet (nothing was ever added). */
    private StreamEntryID lastDelivered() {
        try {
            for (StreamGroupInfo g : redis.xinfoGroups(RedisKeys.EVENTS)) {
                if (g.getName().equals(RedisKeys.GROUP)) return g.getLastDeliveredId();
            }
            return null;
        } catch (JedisDataException e) {
            if (String.valueOf(e.getMessage()).contains("no such key")) return null;
            throw e;
        }
    }

    @Override
    public long mark() {
        Look look = last;
        // never looked (Redis down since the start): this host's clock, a second ahead for the hosts' difference
        if (look == null) return System.currentTimeMillis() + 1_000;
        // +1: the look's TIME is truncated to the millisecond, and an entry of that same millisecond may come after it
        return look.redisMillis() + (System.nanoTime() - look.sentNanos()) / 1_000_000 + 1;
    }

    @Override
    public boolean committedThrough(long mark) {
        Look look = last;
        return look != null && look.lowMillis() > mark;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
