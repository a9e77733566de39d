package io.jobstream.websocket;

import java.nio.charset.StandardCharsets;

/**
 * The {@code text/event-stream} wire format (WHATWG HTML, "Server-sent events"): an event is lines of
 * {@code field: value} ended by an empty line, and a value never holds a line break, so a message that had one is cut
 * into several {@code data:} lines (the client joins them with a line feed, so JSON reads the same). Stateless.
 */
final class SseFrames {
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);

    private SseFrames() {}

    /** {@code head} (zero or more complete field lines), then {@code message} as data lines, then the blank line. */
    static byte[] data(byte[] head, byte[] message) {
        int breaks = 0;
        for (byte b : message) if (b == '\n' || b == '\r') breaks++;
        byte[] frame = new byte[head.length + DATA.length * (breaks + 1) + message.length + 2];
        System.arraycopy(head, 0, frame, 0, head.length);
        int at = head.length;
        System.arraycopy(DATA, 0, frame, at, DATA.length);
        at += DATA.length;
        for (int i = 0; i < message.length; i++) {
            byte b = message[i];
            if (b == '\n' || b == '\r') { // JSON holds none outside whitespace; any other text is kept line by line
                if (b == '\r' && i + 1 < message.length && message[i + 1] == '\n') i++; // CRLF: one break
                frame[at++] = '\n';
                System.arraycopy(DATA, 0, frame, at, DATA.length);
                at += DATA.length;
            } else {
                frame[at++] = b;
            }
        }
        frame[at++] = '\n';
        frame[at++] = '\n';
        return at == frame.length ? frame : java.util.Arrays.copyOf(frame, at);
    }

    /** An event of the given type ({@code event:} field) with {@code text} as its data. */
    static byte[] named(String type, String text) {
        return data(
                ("event: " + type + "\n").getBytes(StandardCharsets.US_ASCII), text.getBytes(StandardCharsets.UTF_8));
    }

    /** The {@code final_counter} of a {@code jobs} summary message, else -1. */
    static int finalCounterOf(String frame) {
        int at = frame.indexOf("\"final_counter\":");
        if (at < 0) return -1;
        int i = at + "\"final_counter\":".length();
        while (i < frame.length() && frame.charAt(i) == ' ') i++;
        long n = 0;
        int start = i;
        while (i < frame.length() && Character.isDigit(frame.charAt(i)) && i - start < 10) {
            n = n * 10 + (frame.charAt(i++) - '0');
        }
        return i == start || n > Integer.MAX_VALUE ? -1 : (int) n;
    }

    /** The {@code unified_job_id} a {@code jobs} message is about, else 0. */
    static long jobOf(String frame) {
        int at = frame.indexOf("\"unified_job_id\":");
        if (at < 0) return 0;
        int i = at + "\"unified_job_id\":".length();
        while (i < frame.length() && frame.charAt(i) == ' ') i++;
        long n = 0;
        int start = i;
        while (i < frame.length() && Character.isDigit(frame.charAt(i)) && i - start < 18) {
            n = n * 10 + (frame.charAt(i++) - '0');
        }
        return i == start ? 0 : n;
    }
}
