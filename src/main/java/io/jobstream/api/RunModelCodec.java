package io.jobstream.api;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A {@link RunModel} as bytes, to keep in {@code job_run_model} (V8) and read back on a node that has not built it.
 *
 * <p>Design note. A model of 1,000 hosts × 200 tasks is 200,000 host results of a few repeated strings and times
 * close to each other, so: every distinct string once in a table, then indexes; times as zigzag varints relative to
 * the task's start (a host's start) and to the host's start (its end); all of it gzip'd at the fastest level (the
 * repeats are already gone; level 6 took ~3x the time for a few percent). A general serializer (Jackson, Kryo) would
 * write a field name or class tag per host result or need the model's internals opened to it; this is a page of
 * code with a version. The header (magic, {@link #VERSION}) is outside the gzip stream so an old blob is told from a
 * corrupt one without inflating it; gzip's CRC-32 and length trailer catch a blob damaged inside, and every count
 * and index is checked against bounds before use, so a damaged blob fails with {@link Unreadable}, never with an
 * allocation of a wild size. Stateless and thread-safe.
 */
final class RunModelCodec {
    /** The blob format. Bump it whenever the encoding or what RunModel derives from rows changes. */
    static final int VERSION = 1;

    private static final int MAGIC = 0x4A53524D; // "JSRM"
    /** No count or string length in a sound blob comes near this; a larger one is damage. */
    private static final int MAX_COUNT = 50_000_000;
    /** Longer than any name a run model keeps from a sound blob (a string this long is damage). */
    private static final int MAX_STRING = 16 << 20;

    private static final String[] RESULTS = {
        null, RunModel.OK, RunModel.CHANGED, RunModel.FAILED, RunModel.SKIPPED, RunModel.UNREACHABLE
    };

    private RunModelCodec() {}

    /** The blob could not be read: damaged, cut short, or of another format version. */
    static final class Unreadable extends Exception {
        final boolean oldVersion;

        Unreadable(String message, boolean oldVersion, Throwable cause) {
            super(message, cause);
            this.oldVersion = oldVersion;
        }
    }

    static byte[] encode(RunModel m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * 1024);
        try {
            bytes.write(new byte[] {
                (byte) (MAGIC >>> 24),
                (byte) (MAGIC >>> 16),
                (byte) (MAGIC >>> 8),
                (byte) MAGIC,
                (byte) (VERSION >>> 8),
                (byte) VERSION
            });
            try (GZIPOutputStream gz = new GZIPOutputStream(bytes, 64 * 1024) {
                {
                    def.setLevel(Deflater.BEST_SPEED);
                }
            }) {
                Out out = new Out(gz);
                Map<String, Integer> table = new HashMap<>();
                List<String> strings = new ArrayList<>();
                for (RunModel.Task t : m.tasks()) {
                    index(t.uuid, table, strings);
                    index(t.play, table, strings);
                    index(t.name, table, strings);
                    for (String h : t.hosts.keySet()) index(h, table, strings);
                }
                out.varint(strings.size());
                for (String s : strings) {
                    byte[] b = s.getBytes(StandardCharsets.UTF_8);
                    out.varint(b.length);
                    out.bytes(b);
                }
                out.varint(m.hosts().size()); // once, not per task: 1,000 tree insertions instead of 200,000
                for (String h : m.hosts()) out.varint(table.get(h));
                out.zigzag(m.rows());
                out.zigzag(m.maxCounter());
                out.zigzag(m.lastMicros());
                out.varint(m.hasStats() ? 1 : 0);
                out.varint(m.tasks().size());
                for (RunModel.Task t : m.tasks()) {
                    out.varint(table.get(t.uuid));
                    out.varint(table.get(t.play));
                    out.varint(table.get(t.name));
                    out.zigzag(t.ordinal);
                    out.zigzag(t.counter);
                    out.zigzag(t.start);
                    out.varint(t.hosts.size());
                    for (RunModel.HostRun h : t.hosts.values()) {
                        boolean started = h.start != -1;
                        boolean ended = h.end != -1;
                        out.varint(table.get(h.host));
                        out.varint((started ? 1 : 0) | (ended ? 2 : 0) | (h.ignored ? 4 : 0) | result(h.result) << 3);
                        if (started) out.zigzag(h.start - t.start);
                        if (ended) out.zigzag(h.end - (started ? h.start : t.start));
                    }
                }
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    static RunModel decode(byte[] blob) throws Unreadable {
        if (blob == null || blob.length < 6) throw new Unreadable("shorter than its header", false, null);
        int magic = (blob[0] & 0xff) << 24 | (blob[1] & 0xff) << 16 | (blob[2] & 0xff) << 8 | (blob[3] & 0xff);
        if (magic != MAGIC) throw new Unreadable("not a run model", false, null);
        int version = (blob[4] & 0xff) << 8 | (blob[5] & 0xff);
        if (version != VERSION) throw new Unreadable("format " + version + ", not " + VERSION, true, null);
        try (GZIPInputStream gz = new GZIPInputStream(new ByteArrayInputStream(blob, 6, blob.length - 6), 64 * 1024)) {
            In in = new In(gz);
            int n = in.count();
            String[] strings = new String[Math.min(n, 1 << 16)];
            for (int i = 0; i < n; i++) {
                if (i == strings.length) strings = java.util.Arrays.copyOf(strings, Math.min(n, i * 2));
                strings[i] = new String(in.bytes(in.count()), StandardCharsets.UTF_8);
            }
            RunModel m = new RunModel();
            int hostCount = in.count();
            List<String> hostNames = new ArrayList<>(Math.min(hostCount, 1 << 16));
            for (int i = 0; i < hostCount; i++) hostNames.add(string(strings, n, in.count()));
            int rows = in.int32();
            int maxCounter = in.int32();
            long lastMicros = in.zigzag();
            boolean stats = in.count() == 1;
            int tasks = in.count();
            for (int i = 0; i < tasks; i++) {
                RunModel.Task t = new RunModel.Task(
                        string(strings, n, in.count()),
                        string(strings, n, in.count()),
                        string(strings, n, in.count()),
                        in.int32(),
                        in.int32(),
                        in.zigzag());
                int hosts = in.count();
                for (int j = 0; j < hosts; j++) {
                    RunModel.HostRun h = new RunModel.HostRun(string(strings, n, in.count()));
                    int flags = in.count();
                    if (flags >>> 3 >= RESULTS.length) throw new IOException("result code " + (flags >>> 3));
                    if ((flags & 1) != 0) h.start = t.start + in.zigzag();
                    if ((flags & 2) != 0) h.end = ((flags & 1) != 0 ? h.start : t.start) + in.zigzag();
                    h.ignored = (flags & 4) != 0;
                    h.result = RESULTS[flags >>> 3];
                    if (t.hosts.put(h.host, h) != null) throw new IOException("host " + h.host + " twice in a task");
                }
                m.restoreTask(t);
            }
            m.restoreCounts(hostNames, rows, maxCounter, lastMicros, stats);
            if (!in.atEnd()) throw new IOException("bytes after the model"); // reading to the end checks the CRC
            return m;
        } catch (IOException | RuntimeException e) {
            throw new Unreadable("damaged: " + e, false, e);
        }
    }

    private static void index(String s, Map<String, Integer> table, List<String> strings) {
        if (table.putIfAbsent(s, strings.size()) == null) strings.add(s);
    }

    private static String string(String[] strings, int n, int i) throws IOException {
        if (i >= n) throw new IOException("string " + i + " of " + n);
        return strings[i];
    }

    private static int result(String r) {
        for (int i = 1; i < RESULTS.length; i++) if (RESULTS[i].equals(r)) return i;
        if (r != null) throw new IllegalStateException("no code for result " + r); // RESULTS lacks a new constant
        return 0;
    }

    /** Unsigned LEB128 varints and zigzag longs onto a buffered stream. */
    private static final class Out {
        private final OutputStream out;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;

        Out(OutputStream out) {
            this.out = out;
        }

        void varint(long v) throws IOException {
            if (pos > buf.length - 10) flush();
            while ((v & ~0x7FL) != 0) {
                buf[pos++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[pos++] = (byte) v;
        }

        void zigzag(long v) throws IOException {
            varint((v << 1) ^ (v >> 63));
        }

        void bytes(byte[] b) throws IOException {
            flush();
            out.write(b);
        }

        void flush() throws IOException {
            out.write(buf, 0, pos);
            pos = 0;
        }
    }

    private static final class In {
        private final InputStream in;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;
        private int end;

        In(InputStream in) {
            this.in = in;
        }

        private int next() throws IOException {
            if (pos == end) {
                end = in.read(buf, 0, buf.length);
                pos = 0;
                if (end <= 0) {
                    end = 0;
                    throw new EOFException("cut short");
                }
            }
            return buf[pos++] & 0xff;
        }

        long varlong() throws IOException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = next();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw new IOException("varint longer than 10 bytes");
        }

        /** A count, index or small number: 0..{@link #MAX_COUNT}. */
        int count() throws IOException {
            long v = varlong();
            if (v < 0 || v > MAX_COUNT) throw new IOException("count " + v + " out of bounds");
            return (int) v;
        }

        long zigzag() throws IOException {
            long v = varlong();
            return (v >>> 1) ^ -(v & 1);
        }

        boolean atEnd() throws IOException {
            return pos == end && in.read() == -1;
        }

        /** A counter or ordinal: any int an emitter sent. */
        int int32() throws IOException {
            long v = zigzag();
            if (v != (int) v) throw new IOException(v + " is not an int");
            return (int) v;
        }

        byte[] bytes(int n) throws IOException {
            if (n > MAX_STRING) throw new IOException("string of " + n + " bytes");
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                if (pos == end) {
                    int r = in.readNBytes(b, i, n - i);
                    if (r < n - i) throw new EOFException("cut short");
                    return b;
                }
                b[i] = buf[pos++];
            }
            return b;
        }
    }
}
