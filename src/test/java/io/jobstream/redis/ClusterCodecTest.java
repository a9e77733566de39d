package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
    void a_node_knows_its_own_relay_messages_by_their_first_bytes_and_no_other_nodes() {
        CommittedBatch batch = new CommittedBatch(
                List.of(new StoredEvent(55, decoded(Events.event(7, 8)), Instant.parse("2026-11-28T04:00:00Z"))),
                List.of(),
                Instant.parse("2026-11-28T04:00:01Z"));
        for (String origin : List.of("a", "node-1", "nœud-é", "1:a")) {
            byte[] message = ClusterCodec.encode(origin, batch).getBytes(StandardCharsets.UTF_8);
            byte[] prefix = CompactMessage.originPrefix(origin);
            assertThat(Arrays.copyOf(message, prefix.length)).as(origin).isEqualTo(prefix);
            for (String other : List.of("a", "ab", "node-1", "node-10", "node-", "nœud-é", "nœud-e", "1:a", "1")) {
                if (other.equals(origin)) continue;
                byte[] theirs = CompactMessage.originPrefix(other);
                boolean starts = message.length >= theirs.length
                        && Arrays.equals(message, 0, theirs.length, theirs, 0, theirs.length);
                assertThat(starts)
                        .as("%s's message read as %s's", origin, other)
                        .isFalse();
            }
        }
    }

    @Test
    void a_relayed_batch_decodes_only_the_wanted_jobs_events_and_the_others_times() {
        JobEvent a = decoded(Events.event(7, 1).replace("\"task 0\"", "\"!3:x;-1;\""));
        JobEvent b = decoded(Events.event(8, 1));
        JobEvent c = decoded(Events.event(7, 2));
        Instant modified = Instant.parse("2026-11-28T04:00:00.123456Z");
        CommittedBatch batch = new CommittedBatch(
                List.of(
                        new StoredEvent(1, a, modified),
                        new StoredEvent(2, b, modified),
                        new StoredEvent(3, c, modified)),
                List.of(new JobChange(7, "running", null, false)),
                Instant.parse("2026-11-28T04:00:01Z"));
        String message = ClusterCodec.encode("node-a", batch);

        CompactMessage.Relayed relayed = CompactMessage.decodeBatch(message, job -> job == 8);
        assertThat(relayed.wanted())
                .isEqualTo(new CommittedBatch(
                        List.of(new StoredEvent(2, b, modified)), batch.jobChanges(), batch.committed()));
        CompactMessage.Hops skipped = relayed.skipped();
        assertThat(skipped.size()).isEqualTo(2);
        assertThat(Arrays.copyOf(skipped.created(), 2))
                .containsExactly(Timestamps.micros(a.created()), Timestamps.micros(c.created()));
        assertThat(Arrays.copyOf(skipped.received(), 2))
                .containsExactly(Timestamps.micros(a.received()), Timestamps.micros(c.received()));
        assertThat(CompactMessage.decodeBatch(message, job -> true).wanted()).isEqualTo(batch);

        // a skipped event is still checked: cut short, or a string's length past the end, is refused
        assertThatThrownBy(() -> CompactMessage.decodeBatch(message.substring(0, message.length() - 40), job -> false))
                .isInstanceOf(IllegalArgumentException.class);
        String longer = message.replaceFirst(a.uuid().length() + ":" + a.uuid(), "99999999:" + a.uuid());
        assertThat(longer).isNotEqualTo(message);
        assertThatThrownBy(() -> CompactMessage.decodeBatch(longer, job -> false))
                .isInstanceOf(IllegalArgumentException.class);
        String negative = message.replaceFirst(a.uuid().length() + ":" + a.uuid(), "-5:" + a.uuid());
        assertThatThrownBy(() -> CompactMessage.decodeBatch(negative, job -> false))
                .isInstanceOf(IllegalArgumentException.class);
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

    private List<JobMessage> messages(long job, int events) {
        List<JobMessage> out = new ArrayList<>();
        for (int c = 1; c <= events; c++) out.add(decoded(Events.event(job, c)));
        out.add(new JobEof(job, events));
        return out;
    }

    @Test
    void a_batch_entry_carries_events_and_an_eof_in_order_through_utf8() {
        String hostile = "~1M3;E12:34;\\n:;\ud83d\ude00";
        List<JobMessage> messages = new ArrayList<>(messages(7, 4));
        messages.add(1, decoded(Events.event(7, 9).replace("\"task 0\"", "\"" + hostile + "\"")));
        var entries = CompactMessage.encodeBatchEntries(messages, 1000, 1 << 20);
        assertThat(entries).hasSize(1);
        String text = entries.get(0).text();
        assertThat(entries.get(0).count()).isEqualTo(6);
        assertThat(CompactMessage.batchEntryCount(text)).isEqualTo(6);
        String viaRedis = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        assertThat(ClusterCodec.decodeEntry(viaRedis)).containsExactlyElementsOf(messages);
    }

    @Test
    void batch_entries_are_cut_by_count_and_by_size_never_splitting_or_dropping_a_message() {
        List<JobMessage> messages = messages(8, 2_500);
        var byCount = CompactMessage.encodeBatchEntries(messages, 1000, 1 << 20);
        assertThat(byCount).extracting(CompactMessage.Batch::count).containsExactly(1000, 1000, 501);
        var bySize = CompactMessage.encodeBatchEntries(messages, 1000, 20_000);
        assertThat(bySize.size()).isGreaterThan(3);
        List<JobMessage> back = new ArrayList<>();
        for (var e : bySize) {
            // at most one message past the size
            assertThat(e.text().length()).isLessThan(20_000 + 2_000);
            back.addAll(ClusterCodec.decodeEntry(e.text()));
        }
        assertThat(back).containsExactlyElementsOf(messages);
        // one message bigger than the size is an entry of its own
        JobEvent big = decoded(Events.event(9, 1).replace("\"task 0\"", "\"" + "x".repeat(50_000) + "\""));
        var alone = CompactMessage.encodeBatchEntries(List.of(decoded(Events.event(9, 2)), big, big), 1000, 20_000);
        assertThat(alone).extracting(CompactMessage.Batch::count).containsExactly(2, 1);
    }

    @Test
    void a_batch_entry_cut_short_padded_or_miscounted_is_refused_and_counts_zero_when_not_ours() {
        String text = CompactMessage.encodeBatchEntries(messages(7, 3), 1000, 1 << 20)
                .get(0)
                .text();
        for (int cut = CompactMessage.TAG.length() + 1; cut < text.length(); cut += 7) {
            String shorter = text.substring(0, cut);
            assertThatThrownBy(() -> ClusterCodec.decodeEntry(shorter)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ClusterCodec.decodeEntry(text + "F1;1;"))
                .as("one message more than it says")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeEntry(text.replaceFirst("M4;", "M5;")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeEntry(CompactMessage.TAG + "M0;"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeEntry(CompactMessage.TAG + "M999999999999;"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeEntry(CompactMessage.TAG + "M1;Q1;"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClusterCodec.decodeEntry(CompactMessage.TAG + "M"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(CompactMessage.batchEntryCount(CompactMessage.TAG + "Mx;")).isZero();
        assertThat(CompactMessage.batchEntryCount(ClusterCodec.encode(new JobEof(1, 1))))
                .as("a one-message entry of an older node was not counted when added")
                .isZero();
        assertThat(CompactMessage.batchEntryCount("{\"job\":1}")).isZero();
    }

    @Test
    void entries_of_older_nodes_compact_or_json_read_as_one_message() {
        JobEvent e = decoded(Events.event(7, 6));
        assertThat(ClusterCodec.decodeEntry(ClusterCodec.encode(e))).containsExactly(e);
        assertThat(ClusterCodec.decodeEntry(ClusterCodec.encodeJson(e))).containsExactly(e);
        assertThat(ClusterCodec.decodeEntry(ClusterCodec.encode(new JobEof(9, 3))))
                .containsExactly(new JobEof(9, 3));
    }
}
