package io.jobstream.api;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Timeline answers already written for finished jobs, by ETag (issue 19): the SPEC shape of 1,000 hosts × 200 tasks
 * is 28.9 MB of JSON, and writing it took longer than the 300 ms the answer has, each time it was asked. A finished
 * job's answer only changes with its model (the ETag says which) and with {@code now}, the time of the request: so
 * the body is kept without its {@code now} value, and each answer is the kept bytes with the current time put back
 * in (one copy, no JSON written).
 *
 * <p>Design note. Bounded by {@link #MAX_BYTES} in all, the least recently used body going first; a body larger than
 * the bound is not kept. Only finished jobs' answers are kept (a running job's changes with every event and with
 * the clock). Thread-safe.
 */
final class RenderedBodies {
    /** Room for the largest SPEC-shape page of a 1,000 × 200 job (28.9 MB) and smaller pages besides. */
    static final long MAX_BYTES = 48L << 20;

    private static final byte[] NOW = "\"now\":\"".getBytes(StandardCharsets.US_ASCII);
    /** {@code now} is one of the first fields; past this it is not looked for (and the body not kept). */
    private static final int NOW_WITHIN = 512;

    /** A body cut around its {@code now} value. */
    private record Body(byte[] bytes, int from, int to) {
        long size() {
            return bytes.length;
        }
    }

    private final long maxBytes;
    private final LinkedHashMap<String, Body> bodies = new LinkedHashMap<>(16, 0.75f, true);
    private long total;

    RenderedBodies(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    RenderedBodies() {
        this(MAX_BYTES);
    }

    /** The kept body of {@code key} with {@code now} in place of the one it was written with; null if none. */
    byte[] get(String key, String now) {
        Body b;
        synchronized (this) {
            b = bodies.get(key);
        }
        if (b == null) return null;
        byte[] time = now.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[b.bytes.length - (b.to - b.from) + time.length];
        System.arraycopy(b.bytes, 0, out, 0, b.from);
        System.arraycopy(time, 0, out, b.from, time.length);
        System.arraycopy(b.bytes, b.to, out, b.from + time.length, b.bytes.length - b.to);
        return out;
    }

    /** Keeps {@code body} (which must not change after) under {@code key}, if it fits and has its now early. */
    void put(String key, byte[] body) {
        int from = indexOf(body, NOW);
        if (from < 0 || body.length > maxBytes) return;
        from += NOW.length;
        int to = from;
        while (to < body.length && body[to] != '"') to++;
        if (to == body.length) return;
        Body b = new Body(body, from, to);
        synchronized (this) {
            Body old = bodies.put(key, b);
            total += b.size() - (old == null ? 0 : old.size());
            for (Iterator<Map.Entry<String, Body>> it = bodies.entrySet().iterator();
                    it.hasNext() && total > maxBytes; ) {
                Map.Entry<String, Body> oldest = it.next();
                if (oldest.getKey().equals(key)) continue;
                total -= oldest.getValue().size();
                it.remove();
            }
        }
    }

    synchronized long total() {
        return total;
    }

    private static int indexOf(byte[] body, byte[] what) {
        outer:
        for (int i = 0; i <= Math.min(NOW_WITHIN, body.length - what.length); i++) {
            for (int j = 0; j < what.length; j++) if (body[i + j] != what[j]) continue outer;
            return i;
        }
        return -1;
    }
}
