package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.Redactor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TranscriptTest {
    private static final Redactor REDACTOR = new Redactor(List.of(Pattern.compile("hunter2-[A-Z]+")));

    @TempDir
    Path dir;

    private byte[] copy(byte[] printed, Redactor redactor) throws IOException {
        Path file = Files.createFile(dir.resolve("stdout-" + System.nanoTime()));
        Transcript.copy(1, new ByteArrayInputStream(printed), file, redactor);
        return Files.readAllBytes(file);
    }

    @Test
    void lines_with_a_match_are_masked_and_the_others_kept_byte_for_byte() throws IOException {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        printed.writeBytes("\u001b[0;32mok: [local] => hunter2-ABC\u001b[0m\n".getBytes(StandardCharsets.UTF_8));
        // not UTF-8 at all: a line without a match keeps its bytes, not a decoded and re-encoded copy
        printed.writeBytes(new byte[] {(byte) 0xff, (byte) 0xfe, 'x', '\r', '\n'});
        printed.writeBytes("\n\nlast line hunter2-DEF without newline".getBytes(StandardCharsets.UTF_8));

        byte[] written = copy(printed.toByteArray(), REDACTOR);

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes("\u001b[0;32mok: [local] => ********\u001b[0m\n".getBytes(StandardCharsets.UTF_8));
        expected.writeBytes(new byte[] {(byte) 0xff, (byte) 0xfe, 'x', '\r', '\n'});
        expected.writeBytes("\n\nlast line ******** without newline".getBytes(StandardCharsets.UTF_8));
        assertThat(written).isEqualTo(expected.toByteArray());
    }

    @Test
    void a_secret_split_across_reads_is_still_found() throws IOException {
        byte[] text = "a hunter2-SPLIT b\n".getBytes(StandardCharsets.UTF_8);
        InputStream trickle = new InputStream() { // one byte per read, as a slow pipe may deliver
                    int at;

                    @Override
                    public int read() {
                        return at < text.length ? text[at++] : -1;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) {
                        if (at >= text.length) return -1;
                        b[off] = text[at++];
                        return 1;
                    }
                };
        Path file = Files.createFile(dir.resolve("trickle"));
        Transcript.copy(2, trickle, file, REDACTOR);
        assertThat(Files.readString(file)).isEqualTo("a ******** b\n");
    }

    @Test
    void a_line_that_never_ends_is_matched_in_bounded_pieces() throws IOException {
        byte[] huge = new byte[Transcript.MAX_LINE * 2 + 10];
        java.util.Arrays.fill(huge, (byte) 'a');
        byte[] secret = "hunter2-IN".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(secret, 0, huge, 100, secret.length);

        byte[] written = copy(huge, REDACTOR);

        String out = new String(written, StandardCharsets.ISO_8859_1);
        assertThat(out).doesNotContain("hunter2-IN").contains("********");
        assertThat(written.length).isEqualTo(huge.length - secret.length + Redactor.MASK.length());
    }

    @Test
    void a_line_masked_whole_for_its_backtracking_budget_keeps_its_newline() throws IOException {
        Redactor hostile = new Redactor(List.of(Pattern.compile("(a+)+b")));
        byte[] written = copy(("a".repeat(5000) + "c\nnext\n").getBytes(StandardCharsets.UTF_8), hostile);
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(Redactor.MASK + "\nnext\n");
    }
}
