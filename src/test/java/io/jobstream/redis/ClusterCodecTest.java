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
        var root = ClusterCodec.read(ClusterCodec.encode("node-a", batch));
        assertThat(root.path("origin").asText()).isEqualTo("node-a");
        assertThat(ClusterCodec.batch(root)).isEqualTo(batch);
    }

    @Test
    void a_message_that_is_not_ours_is_refused_with_a_reason() {
        assertThatThrownBy(() -> ClusterCodec.decodeMessage("{\"job\":1,\"counter\":2}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("uuid");
        assertThatThrownBy(() -> ClusterCodec.decodeMessage("not json")).isInstanceOf(IllegalArgumentException.class);
    }
}
