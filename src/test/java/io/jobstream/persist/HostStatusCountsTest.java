package io.jobstream.persist;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostStatusCountsTest {
    @Test
    void each_host_counts_once_under_its_last_non_zero_status_in_awx_order() {
        String stats = "{\"ok\":{\"a\":3,\"b\":2,\"c\":1,\"d\":0},\"changed\":{\"b\":1},\"failures\":{\"c\":1},"
                + "\"dark\":{},\"skipped\":{\"d\":2}}";
        assertThat(HostStatusCounts.fromStats(stats))
                .isEqualTo("{\"ok\":1,\"changed\":1,\"failures\":1,\"skipped\":1}");
    }

    @Test
    void no_hosts_gives_an_empty_object() {
        assertThat(HostStatusCounts.fromStats("{}")).isEqualTo("{}");
    }
}
