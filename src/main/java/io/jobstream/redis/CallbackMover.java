package io.jobstream.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.args.ListDirection;

/**
 * Moves messages from {@code callback_tasks} into a node's processing list, many per round trip and atomically: one
 * Lua script (Redis runs a script as one command, nothing else in between) takes the head of the list up to a count
 * and a byte budget, trims it off and appends it to the processing list, so a message is in exactly one of the two
 * lists at every instant, as with LMOVE. Pipelined LMOVEs did the same in one round trip but cost Redis one command
 * per message; the script costs one per batch. Payloads stay bytes: they go to the decoder as they came.
 */
final class CallbackMover {
    /**
     * KEYS: callback_tasks, processing list. ARGV: most messages, most bytes (the first message always goes, however
     * big, so that one oversized payload cannot block the list). Returns the moved messages, oldest first.
     */
    private static final byte[] SCRIPT = """
            local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
            local budget = tonumber(ARGV[2])
            local n, bytes = 0, 0
            for i = 1, #items do
              local size = string.len(items[i])
              if i > 1 and bytes + size > budget then break end
              bytes = bytes + size
              n = i
            end
            if n == 0 then return {} end
            for i = #items, n + 1, -1 do items[i] = nil end
            redis.call('LTRIM', KEYS[1], n, -1)
            redis.call('RPUSH', KEYS[2], unpack(items))
            return items
            """.getBytes(StandardCharsets.UTF_8);

    private static final byte[] TASKS = RedisKeys.CALLBACK_TASKS.getBytes(StandardCharsets.UTF_8);

    private final RedisClient redis;
    private final byte[] processing;
    private final List<byte[]> keys;
    private final List<byte[]> limits;

    /**
     * @param maxMessages most messages per move (Lua's unpack takes up to about 8,000 values)
     * @param maxBytes    most payload bytes per move, past the first message
     */
    CallbackMover(RedisClient redis, String processing, int maxMessages, int maxBytes) {
        if (maxMessages < 1 || maxMessages > 4_000) throw new IllegalArgumentException("maxMessages " + maxMessages);
        this.redis = redis;
        this.processing = processing.getBytes(StandardCharsets.UTF_8);
        this.keys = List.of(TASKS, this.processing);
        this.limits = List.of(bytes(maxMessages), bytes(maxBytes));
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
        out.addAll(move());
        return out;
    }

    /** One script call: up to the limits, possibly nothing. */
    @SuppressWarnings("unchecked")
    List<byte[]> move() {
        Object moved = redis.eval(SCRIPT, keys, limits);
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
