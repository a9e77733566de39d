package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class AnsiStripperTest {
    private static final String ESC = "\u001b";

    @Test
    void colour_codes_are_removed_and_text_kept() {
        assertThat(AnsiStripper.strip(ESC + "[0;32mok: [web1]" + ESC + "[0m\r\n"))
                .isEqualTo("ok: [web1]\r\n");
    }

    @Test
    void erase_line_markers_and_other_csi_sequences_are_removed() {
        assertThat(AnsiStripper.strip("a" + ESC + "[K" + "b" + ESC + "[2J" + "c" + ESC + "[?25l" + "d"))
                .isEqualTo("abcd");
    }

    @Test
    void osc_strings_and_two_character_escapes_are_removed() {
        assertThat(AnsiStripper.strip("a" + ESC + "]0;title\u0007b" + ESC + "]8;;http://x" + ESC + "\\c" + ESC + "Md"))
                .isEqualTo("abcd");
    }

    @Test
    void a_sequence_split_across_writes_is_still_removed() throws IOException {
        StringWriter out = new StringWriter();
        try (AnsiStripper s = new AnsiStripper(out)) {
            s.write("red " + ESC);
            s.write("[3");
            s.write("1mtext" + ESC + "[");
            s.write("0m end");
        }
        assertThat(out.toString()).isEqualTo("red text end");
    }

    @Test
    void text_without_escapes_passes_through_unchanged() {
        String s = "PLAY [all] ******\u00e9\uD83D\uDE00\n";
        assertThat(AnsiStripper.strip(s)).isEqualTo(s);
    }
}
