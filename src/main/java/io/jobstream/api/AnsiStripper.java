package io.jobstream.api;

import java.io.IOException;
import java.io.Writer;

/**
 * A writer that drops ANSI escape sequences on their way to another writer: CSI ({@code ESC [} parameters and a
 * final byte, which covers colours and AWX's old {@code ESC[K} event markers), OSC ({@code ESC ]} up to BEL or
 * {@code ESC \}) and two-character escapes. It keeps its state between writes, so a sequence split across two
 * events' stdout or two buffers is still removed, and it holds nothing but that state (streaming, constant
 * memory). Not thread-safe; closing it closes the target.
 */
final class AnsiStripper extends Writer {
    private static final char ESC = '\u001b';
    private static final char BEL = '\u0007';

    private enum State {
        TEXT,
        ESCAPE,
        CSI,
        OSC,
        OSC_ESCAPE
    }

    private final Writer out;
    private State state = State.TEXT;

    AnsiStripper(Writer out) {
        this.out = out;
    }

    /** Convenience for short texts (tests, the html view's pieces). */
    static String strip(String text) {
        java.io.StringWriter sw = new java.io.StringWriter(text.length());
        try (AnsiStripper s = new AnsiStripper(sw)) {
            s.write(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringWriter does not fail
        }
        return sw.toString();
    }

    @Override
    public void write(char[] buf, int off, int len) throws IOException {
        int end = off + len;
        int run = off; // start of the pending run of plain text, written in one call
        for (int i = off; i < end; i++) {
            if (plain(buf[i])) continue;
            if (i > run) out.write(buf, run, i - run);
            run = i + 1;
        }
        if (end > run) out.write(buf, run, end - run);
    }

    /** Advances the state by one character; true when that character is text to keep. */
    private boolean plain(char c) {
        switch (state) {
            case TEXT:
                if (c != ESC) return true;
                state = State.ESCAPE;
                return false;
            case ESCAPE:
                state = c == '[' ? State.CSI : c == ']' ? State.OSC : State.TEXT;
                return false;
            case CSI:
                if (c >= 0x40 && c <= 0x7e) state = State.TEXT; // the final byte
                return false;
            case OSC:
                if (c == BEL) state = State.TEXT;
                else if (c == ESC) state = State.OSC_ESCAPE;
                return false;
            default: // OSC_ESCAPE: ESC \ ends the string; anything else stays inside it
                state = c == '\\' ? State.TEXT : State.OSC;
                return false;
        }
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
