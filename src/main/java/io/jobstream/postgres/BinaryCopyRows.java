package io.jobstream.postgres;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * Reads rows of PostgreSQL's binary COPY format (PGCOPY, as {@code COPY (SELECT …) TO STDOUT (FORMAT binary)}
 * sends them) out of the CopyData messages the driver hands over, one field at a time, without a driver object per
 * field. PostgreSQL sends one row per message (the header travels with the first); a row split across messages, or
 * a message with more than a row, is refused, never misread. Text fields can be interned by their bytes ({@link #text()}): a run's few event names,
 * host names and task uuids repeat on every row, so each is decoded once per read instead of once per row.
 * Not thread-safe: one per read.
 */
final class BinaryCopyRows {
    private static final int SIGNATURE_LENGTH = 11;
    /** Past this many distinct interned strings, new ones are decoded per row again (a bound on the table). */
    static final int MAX_INTERNED = 1 << 17;

    private byte[] buf;
    private int pos;
    private int end;
    private boolean header = true;

    private String[] strings = new String[1 << 10];
    private byte[][] keys = new byte[1 << 10][];
    private int interned;

    /**
     * Starts on the next message; returns whether it holds a row ({@code false}: the trailer).
     *
     * @throws SQLException when the message is not a row of the binary format
     */
    boolean row(byte[] message, int fields) throws SQLException {
        buf = message;
        pos = 0;
        end = message.length;
        if (header) {
            header = false;
            if (end < SIGNATURE_LENGTH + 8 || buf[0] != 'P' || buf[1] != 'G' || buf[5] != 'Y')
                throw new SQLException("not a binary COPY stream");
            pos = SIGNATURE_LENGTH + 4; // flags
            int extension = int32();
            pos += extension;
        }
        short n = int16();
        if (n == -1) return false;
        if (n != fields) throw new SQLException("a COPY row of " + n + " fields, expected " + fields);
        return true;
    }

    /** After a row's last field: the message must hold nothing more (a second row would be lost otherwise). */
    void endRow() throws SQLException {
        if (pos != end) throw new SQLException("a COPY message with " + (end - pos) + " bytes after its row");
    }

    int int4() throws SQLException {
        length(4);
        return int32();
    }

    long int8() throws SQLException {
        length(8);
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (buf[pos++] & 0xFF);
        return v;
    }

    boolean bool() throws SQLException {
        length(1);
        return buf[pos++] != 0;
    }

    /** A text field (never null), the same String for the same bytes while the table has room. */
    String text() throws SQLException {
        int n = int32();
        if (n < 0 || pos + n > end) throw new SQLException("a null or truncated text field in a COPY row");
        if (n == 0) return "";
        int h = 1;
        for (int i = pos; i < pos + n; i++) h = 31 * h + buf[i];
        int mask = keys.length - 1;
        int slot = (h ^ (h >>> 16)) & mask;
        for (byte[] k; (k = keys[slot]) != null; slot = (slot + 1) & mask) {
            if (Arrays.equals(k, 0, k.length, buf, pos, pos + n)) {
                pos += n;
                return strings[slot];
            }
        }
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        if (interned < MAX_INTERNED) {
            keys[slot] = Arrays.copyOfRange(buf, pos, pos + n);
            strings[slot] = s;
            if (++interned * 2 > keys.length) grow();
        }
        pos += n;
        return s;
    }

    /** A text field decoded without interning (the rare ones: a task start's play and task name). */
    String plainText() throws SQLException {
        int n = int32();
        if (n < 0 || pos + n > end) throw new SQLException("a null or truncated text field in a COPY row");
        String s = n == 0 ? "" : new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    private void grow() {
        byte[][] oldKeys = keys;
        String[] oldStrings = strings;
        keys = new byte[oldKeys.length * 2][];
        strings = new String[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            byte[] k = oldKeys[i];
            if (k == null) continue;
            int h = 1;
            for (byte b : k) h = 31 * h + b;
            int slot = (h ^ (h >>> 16)) & mask;
            while (keys[slot] != null) slot = (slot + 1) & mask;
            keys[slot] = k;
            strings[slot] = oldStrings[i];
        }
    }

    private void length(int expected) throws SQLException {
        int n = int32();
        if (n != expected) throw new SQLException("a COPY field of " + n + " bytes, expected " + expected);
        if (pos + n > end) throw new SQLException("a COPY row split across messages");
    }

    private int int32() throws SQLException {
        if (pos + 4 > end) throw new SQLException("a COPY row split across messages");
        int v = ((buf[pos] & 0xFF) << 24)
                | ((buf[pos + 1] & 0xFF) << 16)
                | ((buf[pos + 2] & 0xFF) << 8)
                | (buf[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    private short int16() throws SQLException {
        if (pos + 2 > end) throw new SQLException("a COPY row split across messages");
        short v = (short) (((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF));
        pos += 2;
        return v;
    }
}
