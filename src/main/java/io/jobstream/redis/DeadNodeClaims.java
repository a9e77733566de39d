package io.jobstream.redis;

import io.jobstream.event.JobMessage;
import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XClaimParams;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamPendingEntry;
import redis.clients.jedis.resps.StreamPendingSummary;

/**
 * The recovery half of {@link RedisEventQueue}: entries a dead node read and never committed stay pending in the
 * consumer group, and this takes them over (XPENDING + XCLAIM) once the node's heartbeat has expired, at most every
 * {@link #CLAIM_EVERY}; an entry delivered {@link #MAX_DELIVERIES} times (it kept killing nodes), or one that cannot
 * be read, goes to the dead-letter stream instead. Kept apart from the queue's read/acknowledge path, which only asks
 * whether a claim is {@link #due} and what it brought. Called only on the receiver's thread (the queue's drainer), so
 * its state needs no lock; Redis errors propagate to the queue's drain, which counts them and retries.
 */
final class DeadNodeClaims {
    // the queue's logger, as before this class was split out: log settings for the queue still cover claims
    private static final Logger log = LoggerFactory.getLogger(RedisEventQueue.class);
    static final int MAX_DELIVERIES = 5;
    private static final Duration CLAIM_EVERY = Duration.ofSeconds(1);

    private final RedisClient redis;
    private final String consumer;
    private final Predicate<String> consumerAlive;
    private final Counter claimed;
    private final Counter deadLettered;
    private final Clock clock;
    private long lastClaim = Long.MIN_VALUE / 2;

    DeadNodeClaims(
            RedisClient redis, String consumer, Predicate<String> consumerAlive, MeterRegistry registry, Clock clock) {
        this.redis = redis;
        this.consumer = consumer;
        this.consumerAlive = consumerAlive;
        this.claimed = registry.counter(Metrics.REDIS_CLAIMED);
        this.deadLettered = registry.counter(Metrics.REDIS_DEAD_LETTERED);
        this.clock = clock;
    }

    /** Whether {@link #CLAIM_EVERY} has passed since the last look; if so, the next look starts now. */
    boolean due() {
        long now = clock.millis();
        if (now - lastClaim <= CLAIM_EVERY.toMillis()) return false;
        lastClaim = now;
        return true;
    }

    /**
     * Takes over the pending entries of consumers whose node has no heartbeat any more, up to {@code max} entries
     * (each a whole batch: a batch is claimed as it was read), and hands each to {@code add} (which returns how many
     * messages it held, 0 when unreadable); returns the total of messages.
     */
    int claim(int max, ToIntFunction<StreamEntry> add) {
        StreamPendingSummary summary = redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP);
        if (summary.getTotal() == 0) return 0;
        int n = 0;
        int taken = 0;
        for (String other : summary.getConsumerMessageCount().keySet()) {
            if (other.equals(consumer) || consumerAlive.test(other)) continue;
            List<StreamPendingEntry> pending = redis.xpending(
                    RedisKeys.EVENTS,
                    RedisKeys.GROUP,
                    XPendingParams.xPendingParams().consumer(other).count(Math.max(1, max - taken)));
            List<StreamEntryID> take = new ArrayList<>();
            for (StreamPendingEntry p : pending) {
                if (p.getDeliveredTimes() >= MAX_DELIVERIES) {
                    var entries = redis.xrange(RedisKeys.EVENTS, p.getID(), p.getID(), 1);
                    deadLetter(
                            p.getID(),
                            entries.isEmpty() ? Map.of() : entries.get(0).getFields(),
                            "delivered " + p.getDeliveredTimes()
                                    + " times, each time to a node that died before committing");
                } else {
                    take.add(p.getID());
                }
            }
            if (take.isEmpty()) continue;
            List<StreamEntry> claimedEntries = redis.xclaim(
                    RedisKeys.EVENTS,
                    RedisKeys.GROUP,
                    consumer,
                    0,
                    XClaimParams.xClaimParams(),
                    take.toArray(StreamEntryID[]::new));
            int got = 0;
            for (StreamEntry entry : claimedEntries) {
                if (entry == null || entry.getFields() == null) continue;
                got += add.applyAsInt(entry);
                taken++;
            }
            claimed.increment(got);
            log.warn(
                    "claimed {} uncommitted events in {} entries from node {} (no heartbeat)",
                    got,
                    claimedEntries.size(),
                    other);
            n += got;
            if (taken >= max) break;
        }
        return n;
    }

    /**
     * Moves an entry to {@link RedisKeys#DEAD} with the reason, and takes it out of the event stream. A batch entry
     * that can be read becomes one dead letter per message (field {@code m} in the one-message compact form, plus the
     * entry's id and the message's place in it), so that an operator handles events one by one as before batching;
     * an unreadable entry is kept whole.
     */
    void deadLetter(StreamEntryID id, Map<String, String> fields, String reason) {
        String text = fields.get("m");
        List<JobMessage> messages = null;
        if (text != null && CompactMessage.isBatchEntry(text)) {
            try {
                messages = CompactMessage.decodeBatchEntry(text);
            } catch (RuntimeException e) {
                // unreadable: kept whole below
            }
        }
        if (messages == null) {
            redis.xadd(RedisKeys.DEAD, XAddParams.xAddParams(), withReason(fields, id, reason));
        } else {
            for (int i = 0; i < messages.size(); i++) {
                Map<String, String> one = new LinkedHashMap<>();
                one.put("m", CompactMessage.encode(messages.get(i)));
                one.put("index", Integer.toString(i));
                redis.xadd(RedisKeys.DEAD, XAddParams.xAddParams(), withReason(one, id, reason));
            }
        }
        // an entry this version appended is always readable: an unreadable one was never counted when added
        int count = messages == null ? 0 : messages.size();
        StreamScripts.acknowledge(redis, List.of(new StreamScripts.Done(id, count)));
        deadLettered.increment(messages == null ? 1 : messages.size());
        log.error(
                "event stream entry {} ({} messages) moved to {}: {}",
                id,
                messages == null ? "unreadable" : messages.size(),
                RedisKeys.DEAD,
                reason);
    }

    private static Map<String, String> withReason(Map<String, String> fields, StreamEntryID id, String reason) {
        Map<String, String> dead = new LinkedHashMap<>(fields);
        dead.put("id", id.toString());
        dead.put("reason", reason);
        return dead;
    }
}
