package io.jobstream.redis;

import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;

/**
 * The event stream's two writes that must stay in step with its count of queued events ({@link RedisKeys#QUEUED}):
 * appending batch entries, and acknowledging (XACK + XDEL) committed ones. Each is one Lua script, which Redis runs
 * as one command, so the count is the sum of the batch counts of the entries in the stream whatever node dies when.
 *
 * <p>Design note. A stream entry holds a batch of messages, so the stream's length (XLEN) no longer says how many
 * events wait; {@code queue.capacity} stays a bound in events by keeping that sum in a counter. The append checks
 * the bound and adds in the same script (nothing between check and add, unlike the cached XLEN it replaces), and
 * refuses the whole request when it does not fit. An entry counts only once: its count is taken off when XDEL
 * actually deletes it, so two nodes acknowledging the same claimed entry take it off once. Entries that nodes of an
 * older version appended (one message each, no count) count as 0, as they were not counted when added. Should the
 * counter drift anyway (someone deleted the stream by hand), an empty stream resets it to 0.
 */
final class StreamScripts {
    /** KEYS: stream, counter. ARGV: capacity, then (count, entry) pairs. Returns the new count, or -1 (no room). */
    private static final String APPEND = """
            local queued = tonumber(redis.call('GET', KEYS[2]) or '0')
            if queued ~= 0 and redis.call('XLEN', KEYS[1]) == 0 then queued = 0 end
            local adding = 0
            for i = 2, #ARGV, 2 do adding = adding + tonumber(ARGV[i]) end
            if queued + adding > tonumber(ARGV[1]) then return -1 end
            for i = 2, #ARGV, 2 do redis.call('XADD', KEYS[1], '*', 'm', ARGV[i + 1]) end
            queued = queued + adding
            redis.call('SET', KEYS[2], queued)
            return queued
            """;

    /** KEYS: stream, counter. ARGV: group, then (id, count) pairs. Returns the events taken off the count. */
    private static final String ACKNOWLEDGE = """
            local done = 0
            for i = 2, #ARGV, 2 do
              redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
              if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then done = done + tonumber(ARGV[i + 1]) end
            end
            if done > 0 and redis.call('DECRBY', KEYS[2], done) < 0 then redis.call('SET', KEYS[2], 0) end
            return done
            """;

    private static final List<String> KEYS = List.of(RedisKeys.EVENTS, RedisKeys.QUEUED);

    /** An entry to acknowledge, with the count it added. */
    record Done(StreamEntryID id, int count) {}

    private StreamScripts() {}

    /** Appends the entries if their events fit under {@code capacity}; the response is the new count or -1. */
    static Response<Object> append(AbstractPipeline p, int capacity, List<CompactMessage.Batch> entries) {
        List<String> args = new ArrayList<>(1 + 2 * entries.size());
        args.add(Integer.toString(capacity));
        for (CompactMessage.Batch e : entries) {
            args.add(Integer.toString(e.count()));
            args.add(e.text());
        }
        return p.eval(APPEND, KEYS, args);
    }

    /** Acknowledges and deletes the entries, taking the events of those it deleted off the count. */
    static void acknowledge(RedisClient redis, List<Done> entries) {
        if (entries.isEmpty()) return;
        List<String> args = new ArrayList<>(1 + 2 * entries.size());
        args.add(RedisKeys.GROUP);
        for (Done d : entries) {
            args.add(d.id().toString());
            args.add(Integer.toString(d.count()));
        }
        redis.eval(ACKNOWLEDGE, KEYS, args);
    }

    /** The events the stream holds by the counter (0 when there is none). */
    static long queued(RedisClient redis) {
        String v = redis.get(RedisKeys.QUEUED);
        return v == null ? 0 : Long.parseLong(v);
    }
}
