package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.StoredEvent;
import io.jobstream.testing.Events;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterCodecTest {
    private final EventDecoder decoder = new EventDecoder(1 << 20, Clock.systemUTC());

    private JobEvent decoded(String json) {
        return (JobEvent) ((Decoded.Ok) decoder.decodeBody(json).get(0)).message();
    }

    @Test
    void an_event_crosses_the_stream_unchanged_including_its_received_time() {
        JobEvent e = decoded(Events.event(7, 3).replace("\"task 0\"", "\"t\\u00e9\\\"q\\\"\""));
        assertThat(ClusterCodec.decodeMessage(ClusterCodec.encode(e))).isEqualTo(e);
    }

    @Test
    void strings_that_look_like_the_compact_framing_cross_unchanged() {
        String hostile = "12:34;\\n:;~1E\\ud83d\\ude00 \\\"x\\\" 3:ab";
        JobEvent e = decoded(Events.event(7, 5)
                .replace("\"task 0\"", "\"" + hostile + "\"")
                .replace("\"stdout\":\"", "\"stdout\":\"" + hostile));
        String entry = ClusterCodec.encode(e);
        assertThat(entry).startsWith(CompactMessage.TAG);
        assertThat(ClusterCodec.decodeMessage(entry)).isEqualTo(e);
        // as Redis hands it back: through UTF-8 bytes
        String viaRedis = new String(entry.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        assertThat(ClusterCodec.decodeMessage(viaRedis)).isEqualTo(e);
    }

    @Test
    void an_entry_in_the_json_form_of_an_older_node_is_still_read() {
        JobEvent e = decoded(Events.event(7, 6));
        assertThat(ClusterCodec.decodeMessage(ClusterCodec.encodeJson(e))).isEqualTo(e);
        JobEof eof = new JobEof(9, 3);
        assertThat(ClusterCodec.decodeMessage(ClusterCodec.encodeJson(eof))).isEqualTo(eof);
    }

    @Test
    void a_compact_entry_cut_short_or_padded_is_refused_not_misread() {
        String entry = ClusterCodec.encode(decoded(Events.event(7, 7)));
        for (int cut : new int[] {entry.length() - 1, entry.length() / 2, CompactMessage.TAG.length() + 1, 3}) {
            assertThatThrownBy(() -> ClusterCodec.decodeMessage(entry.substring(0, cut)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ClusterCodec.decodeMessage(entry + "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeMessage(CompactMessage.TAG + "E99999999999:x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeMessage(CompactMessage.TAG + "Q1;"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void an_eof_crosses_the_stream_unchanged() {
        JobEof eof = new JobEof(9, 120);
        assertThat(ClusterCodec.decodeMessage(ClusterCodec.encode(eof))).isEqualTo(eof);
    }

    @Test
    void a_committed_batch_crosses_the_relay_with_its_origin_ids_commit_times_and_job_changes() {
        JobEvent e = decoded(Events.event(7, 4));
        Instant modified = Instant.parse("2026-11-28T04:00:00.123456Z");
        CommittedBatch batch = new CommittedBatch(
                List.of(new StoredEvent(55, e, modified)),
                List.of(new JobChange(7, "successful", 4, true), new JobChange(8, null, null, false)));
        var root = ClusterCodec.read(ClusterCodec.encodeJson("node-a", batch));
        assertThat(root.path("origin").asText()).isEqualTo("node-a");
        assertThat(ClusterCodec.batch(root)).isEqualTo(batch);
    }

    @Test
    void a_committed_batch_crosses_the_relay_compact_with_nulls_and_hostile_strings() {
        JobEvent a = decoded(Events.event(7, 8).replace("\"task 0\"", "\"!3:x;-1;\""));
        JobEvent b = decoded(Events.event(8, 1));
        Instant modified = Instant.parse("2026-11-28T04:00:00.123456Z");
        CommittedBatch batch = new CommittedBatch(
                List.of(new StoredEvent(55, a, modified), new StoredEvent(56, b, modified.plusMillis(1))),
                List.of(
                        new JobChange(7, "successful", 8, true),
                        new JobChange(8, null, null, false),
                        new JobChange(9, null, 12, false),
                        new JobChange(10, "running", null, false)),
                Instant.parse("2026-11-28T04:00:01.000001Z"));
        String message = ClusterCodec.encode("node-a", batch);
        assertThat(CompactMessage.origin(message)).isEqualTo("node-a");
        assertThat(CompactMessage.decodeBatch(message)).isEqualTo(batch);
        assertThat(ClusterCodec.batch(ClusterCodec.read(ClusterCodec.encodeJson("node-a", batch))))
                .as("an older node's JSON form is still read")
                .isEqualTo(batch);
        assertThatThrownBy(() -> CompactMessage.decodeBatch(message.substring(0, message.length() - 2)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CompactMessage.decodeBatch(CompactMessage.TAG + "B1:a1;99999;"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void a_message_that_is_not_ours_is_refused_with_a_reason() {
        assertThatThrownBy(() -> ClusterCodec.decodeMessage("{\"job\":1,\"counter\":2}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("uuid");
        assertThatThrownBy(() -> ClusterCodec.decodeMessage("not json")).isInstanceOf(IllegalArgumentException.class);
    }
}
