package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TruncationTest {
    private static final String ESC = "\u001b";

    @Test
    void stdout_of_1024_characters_is_left_whole() {
        String s = "x".repeat(1024);
        assertThat(Truncation.truncate(s, 1024)).isSameAs(s);
    }

    @Test
    void longer_stdout_keeps_1023_characters_and_an_ellipsis() {
        String cut = Truncation.truncate("y".repeat(5000), 1024);
        assertThat(cut).hasSize(1024).endsWith("y\u2026");
        assertThat(cut.codePointCount(0, cut.length())).isEqualTo(1024);
    }

    @Test
    void each_unbalanced_colour_set_gets_one_reset() {
        String s = ESC + "[0;32m" + "ok " + ESC + "[1m" + "z".repeat(2000) + ESC + "[0m";
        String cut = Truncation.truncate(s, 1024);
        assertThat(cut).endsWith("\u2026" + ESC + "[0m" + ESC + "[0m");
    }

    @Test
    void balanced_colours_get_no_reset() {
        String s = ESC + "[0;32m" + "ok" + ESC + "[0m" + "z".repeat(2000);
        assertThat(Truncation.truncate(s, 1024)).endsWith("z\u2026");
    }

    @Test
    void characters_outside_the_bmp_count_once() {
        String s = "\uD83D\uDE00".repeat(1100); // 1100 code points, 2200 chars
        String cut = Truncation.truncate(s, 1024);
        assertThat(cut.codePointCount(0, cut.length())).isEqualTo(1024);
        assertThat(Truncation.truncate("\uD83D\uDE00".repeat(1000), 1024)).hasSize(2000);
    }

    @Test
    void playbook_on_events_are_never_cut() {
        assertThat(Truncation.applies("playbook_on_task_start")).isFalse();
        assertThat(Truncation.applies("runner_on_ok")).isTrue();
    }
}
