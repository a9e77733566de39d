package io.jobstream.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.args.ListDirection;

/**
 * Moves messages from {@code callback_tasks} into a node's processing list, many per round trip: one Lua script
 * (Redis runs a script as one command, nothing else in between) LMOVEs the head of the list up to a count and a byte
 * budget, so a message is in exactly one of the two lists at every instant, and the batch is all or nothing. Pipelined LMOVEs did the same in one round trip but cost Redis one command
 * per message; the script costs one per batch. Payloads stay bytes: they go to the decoder as they came.
 */
final class CallbackMover {
    /**
     * KEYS: callback_tasks, processing list. ARGV: most messages, most bytes. LMOVE one at a time inside the script:
     * Redis moves each value without copying it, and its AOF records the LMOVEs rather than the payloads a second
     * time. It stops once the moved bytes reach the budget, so a batch holds at most the budget plus one message
     * (the first always goes, however big, so that one oversized payload cannot block the list). Returns the moved
     * messages, oldest first.
     */
    private static final byte[] SCRIPT = """
            local n, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
            local items, bytes = {}, 0
            while #items < n and bytes < budget do
              local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
              if not v then break end
              items[#items + 1] = v
              bytes = bytes + string.len(v)
            end
            return items
            """.getBytes(StandardCharsets.UTF_8);

    private static final byte[] TASKS = RedisKeys.CALLBACK_TASKS.getBytes(StandardCharsets.UTF_8);

    private final RedisClient redis;
    private final byte[] processing;
    private final List<byte[]> keys;
    private final int maxMessages;
    private final byte[] maxBytes;

    /**
     * @param maxMessages most messages per move
     * @param maxBytes    payload bytes after which a move stops (it may pass them by its last message)
     */
    CallbackMover(RedisClient redis, String processing, int maxMessages, int maxBytes) {
        if (maxMessages < 1 || maxMessages > 10_000) throw new IllegalArgumentException("maxMessages " + maxMessages);
        this.redis = redis;
        this.processing = processing.getBytes(StandardCharsets.UTF_8);
        this.keys = List.of(TASKS, this.processing);
        this.maxMessages = maxMessages;
        this.maxBytes = bytes(maxBytes);
    }

    /** What a failed attempt left in the processing list (normally nothing), oldest first. */
    List<byte[]> leftOver() {
        return redis.lrange(processing, 0, -1);
    }

    /**
     * Moves a batch; when {@code callback_tasks} is empty, waits up to {@code waitSeconds} for a first message (a
     * blocking BLMOVE, so an idle node costs Redis nothing) and then moves what else has come.
     */
    List<byte[]> take(double waitSeconds) {
        List<byte[]> batch = move();
        if (!batch.isEmpty()) return batch;
        byte[] first = redis.blmove(TASKS, processing, ListDirection.LEFT, ListDirection.RIGHT, waitSeconds);
        if (first == null) return List.of();
        List<byte[]> out = new ArrayList<>();
        out.add(first);
        if (maxMessages > 1) out.addAll(move(maxMessages - 1));
        return out;
    }

    /** One script call: up to the limits, possibly nothing. */
    List<byte[]> move() {
        return move(maxMessages);
    }

    @SuppressWarnings("unchecked")
    private List<byte[]> move(int most) {
        Object moved = redis.eval(SCRIPT, keys, List.of(bytes(most), maxBytes));
        return moved instanceof List<?> list ? (List<byte[]>) list : List.of();
    }

    /** Clears the processing list once its messages are in the stream. */
    void done() {
        redis.del(processing);
    }

    private static byte[] bytes(int n) {
        return Integer.toString(n).getBytes(StandardCharsets.UTF_8);
    }
}
