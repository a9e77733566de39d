package io.jobstream.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class CaptureTest {
    private static final EventDecoder DECODER =
            new EventDecoder(1 << 20, Clock.fixed(Instant.parse("2026-12-06T10:00:00Z"), ZoneOffset.UTC));

    private static JobEvent event(String type, String res) {
        String line = "{\"job_id\":1,\"counter\":3,\"event\":\"" + type + "\",\"stdout\":\"ok: [h]\",\"start_line\":4,"
                + "\"end_line\":5,\"event_data\":{\"host\":\"h\",\"task\":\"t\""
                + (res == null ? "" : ",\"res\":" + res)
                + "}}";
        return (JobEvent) ((Decoded.Ok) DECODER.decodeBody(line).get(0)).message();
    }

    @Test
    void full_keeps_the_same_event() {
        JobEvent e = event("runner_on_ok", "{\"x\":1}");
        assertThat(Capture.apply(e, CaptureLevel.FULL)).isEqualTo(new Capture.Kept(e, false, 0));
    }

    @Test
    void no_event_data_drops_res_only_and_counts_its_bytes() {
        JobEvent e = event("runner_on_ok", "{\"stdout_lines\":[\"aaaaaaaaaa\"],\"changed\":true}");
        Capture.Kept k = Capture.apply(e, CaptureLevel.NO_EVENT_DATA);
        assertThat(k.dropped()).isTrue();
        assertThat(k.event().eventData()).isEqualTo("{\"host\":\"h\",\"task\":\"t\"}");
        assertThat(k.event().stdout()).isEqualTo("ok: [h]");
        assertThat(k.event().changed()).isTrue();
        assertThat(k.bytes())
                .isEqualTo(e.eventData().length() - k.event().eventData().length());
        JobEvent noRes = event("playbook_on_task_start", null);
        assertThat(Capture.apply(noRes, CaptureLevel.NO_EVENT_DATA).dropped()).isFalse();
    }

    @Test
    void summary_keeps_starts_failures_changes_and_stats_and_bares_the_rest_with_its_lines() {
        for (String kept : new String[] {
            "playbook_on_start",
            "playbook_on_play_start",
            "playbook_on_task_start",
            "playbook_on_stats",
            "runner_on_failed"
        }) {
            assertThat(Capture.apply(event(kept, "{}"), CaptureLevel.SUMMARY).dropped())
                    .as(kept)
                    .isFalse();
        }
        assertThat(Capture.apply(event("runner_on_ok", "{\"changed\":true}"), CaptureLevel.SUMMARY)
                        .dropped())
                .isFalse();
        Capture.Kept ok = Capture.apply(event("runner_on_ok", "{\"changed\":false}"), CaptureLevel.SUMMARY);
        assertThat(ok.dropped()).isTrue();
        assertThat(ok.event().stdout()).isEmpty();
        assertThat(ok.event().eventData()).isEqualTo("{}");
        assertThat(ok.event().hostName()).isEqualTo("h");
        assertThat(ok.event().task()).isEqualTo("t");
        assertThat(ok.event().startLine()).isEqualTo(4);
        assertThat(ok.event().endLine()).isEqualTo(5);
        assertThat(ok.event().counter()).isEqualTo(3);
    }

    @Test
    void levels_are_parsed_exactly_and_a_bad_one_is_named_shortened_and_printable() {
        assertThat(CaptureLevel.parse("no_event_data")).isEqualTo(CaptureLevel.NO_EVENT_DATA);
        assertThatThrownBy(() -> CaptureLevel.parse("Summary")).hasMessageContaining("'Summary'");
        assertThatThrownBy(() -> CaptureLevel.parse("x".repeat(10_000)))
                .hasMessageEndingWith("...'")
                .satisfies(t -> assertThat(t.getMessage().length()).isLessThan(200));
        assertThatThrownBy(() -> CaptureLevel.parse("a\u0000b")).hasMessageContaining("'a?b'");
    }
}
