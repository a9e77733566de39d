package io.jobstream.diagnosis;

import static io.jobstream.metrics.Metrics.HOP_COMMITTED_PUBLISHED;
import static io.jobstream.metrics.Metrics.HOP_CREATED_RECEIVED;
import static io.jobstream.metrics.Metrics.HOP_CREATED_WRITTEN;
import static io.jobstream.metrics.Metrics.HOP_PUBLISHED_WRITTEN;
import static io.jobstream.metrics.Metrics.HOP_RECEIVED_COMMITTED;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The doctor's rules on synthetic readings: each cause is named once, symptoms are not causes, noise is healthy. */
class RulesTest {
    /** A node at 5,000 events/s over 60 s with every hop fast: the baseline each test changes one thing of. */
    private static final class Node {
        Map<String, Readings.Hop> hops = new HashMap<>();
        Readings.Queue queue = new Readings.Queue(100_000, 10, 400, 0);
        Readings.Batches batches = new Readings.Batches(3000, 20, 50, 0, 100, 0.2, 300_000, 0);
        Readings.Probes probes = new Readings.Probes(30, 0, 0, 3, null);
        Readings.Relay relay = new Readings.Relay(0, 0, 0);
        Readings.Ingest ingest = new Readings.Ingest(3000, 0, 0);
        int connections = 5;
        List<Readings.Subscriber> subscribers = new ArrayList<>();
        boolean cluster;

        Node() {
            hop(HOP_CREATED_RECEIVED, 300_000, 3, 5, 20);
            hop(HOP_RECEIVED_COMMITTED, 300_000, 25, 20, 100);
            hop(HOP_COMMITTED_PUBLISHED, 300_000, 1, 1, 5);
            hop(HOP_PUBLISHED_WRITTEN, 1_500_000, 4, 5, 50);
            hop(HOP_CREATED_WRITTEN, 1_500_000, 33, 50, 200);
        }

        Node hop(String name, long events, double mean, double p50, double p99) {
            hops.put(name, new Readings.Hop(events, mean, p50, p99));
            return this;
        }

        Diagnosis diagnose() {
            return Rules.diagnose(new Readings(
                    60, 60, 30, cluster, hops, queue, batches, probes, relay, ingest, connections, subscribers));
        }
    }

    private static Readings.Subscriber reader(long user, String remote, long queued, double behindFraction) {
        return new Readings.Subscriber(
                user, "user" + user, remote, List.of(7L), queued, queued, false, behindFraction, behindFraction * 60);
    }

    private static List<String> stages(Diagnosis d) {
        return d.findings().stream().map(Finding::stage).toList();
    }

    @Test
    void a_node_that_keeps_up_is_healthy() {
        Diagnosis d = new Node().diagnose();
        assertThat(d.verdict()).isEqualTo("healthy");
        assertThat(d.findings()).isEmpty();
        assertThat(d.toJson()).containsEntry("verdict", "healthy").containsKey("window");
    }

    @Test
    void a_node_with_no_traffic_and_a_working_database_is_healthy() {
        Node n = new Node();
        n.hops.clear();
        n.batches = new Readings.Batches(0, 0, 0, 0, 0, 0, 0, 0);
        assertThat(n.diagnose().healthy()).isTrue();
    }

    @Test
    void one_slow_batch_is_not_a_finding() {
        Node n = new Node();
        n.batches = new Readings.Batches(3000, 25, 50, 1, 100, 0.25, 300_000, 0);
        n.hop(HOP_RECEIVED_COMMITTED, 300_000, 40, 20, 5000); // its events: a high p99, nothing else
        assertThat(n.diagnose().findings()).isEmpty();
    }

    @Test
    void a_few_slow_events_at_start_up_are_not_a_finding() {
        Node n = new Node();
        n.hops.clear();
        n.hop(HOP_CREATED_RECEIVED, 10, 900, 1000, 2000); // JIT warm-up: the first events
        n.hop(HOP_RECEIVED_COMMITTED, 10, 1500, 2000, 2000);
        n.hop(HOP_CREATED_WRITTEN, 10, 2500, 2000, 5000);
        assertThat(n.diagnose().healthy()).isTrue();
    }

    @Test
    void outliers_that_raise_the_mean_but_not_the_median_are_not_a_finding() {
        Node n = new Node().hop(HOP_CREATED_RECEIVED, 300_000, 800, 5, 20_000);
        assertThat(n.diagnose().healthy()).isTrue();
    }

    @Test
    void a_stalled_database_is_the_finding_and_late_emitters_are_its_symptom() {
        Node n = new Node();
        n.batches = new Readings.Batches(40, 1800, 5000, 6, 500, 0.9, 20_000, 0);
        n.probes = new Readings.Probes(25, 1, 2, 2900, "invalid");
        n.hop(HOP_CREATED_RECEIVED, 20_000, 1500, 1000, 5000);
        n.hop(HOP_RECEIVED_COMMITTED, 20_000, 1900, 2000, 5000);
        n.hop(HOP_CREATED_WRITTEN, 100_000, 3500, 5000, 10_000);

        Diagnosis d = n.diagnose();

        assertThat(d.verdict()).isEqualTo("degraded");
        assertThat(stages(d)).containsExactly("database");
        Finding f = d.findings().get(0);
        assertThat(f.hop()).isEqualTo(HOP_RECEIVED_COMMITTED);
        assertThat(f.summary()).startsWith("database commits are slow: 1.8 s per batch");
        assertThat(f.evidence()).containsEntry("slow_batches", 6L).containsEntry("probes_failed", 1);
        assertThat(f.symptoms()).anyMatch(s -> s.startsWith("created → received 1.5 s"));
        assertThat(f.action()).endsWith("docs/OPERATIONS.md#finding-database");
        assertThat(f.explains()).isGreaterThan(0.9);
    }

    @Test
    void a_database_that_does_not_answer_is_a_finding_even_without_traffic() {
        Node n = new Node();
        n.hops.clear();
        n.batches = new Readings.Batches(0, 0, 0, 0, 0, 0, 0, 0);
        n.probes = new Readings.Probes(3, 3, 0, 2000, "unreachable");
        Diagnosis d = n.diagnose();
        assertThat(stages(d)).containsExactly("database");
        assertThat(d.findings().get(0).summary()).contains("3 of 3 probes failed");
    }

    @Test
    void a_few_slow_probes_on_a_busy_machine_are_not_a_finding() {
        Node n = new Node();
        n.probes = new Readings.Probes(30, 0, 3, 1400, null);
        assertThat(n.diagnose().healthy()).isTrue();
        n.probes = new Readings.Probes(30, 0, 8, 2900, null); // a quarter of them: the database stalls
        assertThat(stages(n.diagnose())).containsExactly("database");
    }

    @Test
    void a_saturated_receiver_is_named_with_its_rate_and_the_full_queue_is_its_symptom() {
        Node n = new Node();
        n.queue = new Readings.Queue(10_000, 9_800, 10_000, 0.9);
        n.batches = new Readings.Batches(600, 95, 200, 0, 2000, 0.95, 1_200_000, 0);
        n.ingest = new Readings.Ingest(5000, 800, 0);
        n.hop(HOP_CREATED_RECEIVED, 1_200_000, 900, 500, 5000);
        n.hop(HOP_RECEIVED_COMMITTED, 1_200_000, 1200, 1000, 2000);

        Diagnosis d = n.diagnose();

        assertThat(stages(d)).containsExactly("receiver");
        Finding f = d.findings().get(0);
        assertThat(f.summary()).contains("busy 95% of the time storing 20000 events/s, queue 9800 of 10000");
        assertThat(f.symptoms()).anyMatch(s -> s.contains("800 ingest requests answered 503"));
    }

    @Test
    void events_late_with_every_hop_in_the_node_fast_are_the_emitter() {
        Node n = new Node().hop(HOP_CREATED_RECEIVED, 300_000, 3000, 5000, 5000);
        n.hop(HOP_CREATED_WRITTEN, 1_500_000, 3030, 5000, 5000);
        Diagnosis d = n.diagnose();
        assertThat(stages(d)).containsExactly("emitter");
        Finding f = d.findings().get(0);
        assertThat(f.hop()).isEqualTo(HOP_CREATED_RECEIVED);
        assertThat(f.evidence()).containsEntry("constant_offset", true);
        assertThat(f.summary()).contains("the emitter's clock may be off");
        assertThat(f.explains()).isGreaterThan(0.95);
    }

    @Test
    void emitters_late_while_the_receiver_is_slow_are_not_blamed() {
        Node n = new Node().hop(HOP_CREATED_RECEIVED, 300_000, 3000, 5000, 5000);
        n.hop(HOP_RECEIVED_COMMITTED, 300_000, 900, 1000, 2000);
        n.batches = new Readings.Batches(3000, 150, 500, 0, 100, 0.8, 300_000, 0);
        assertThat(stages(n.diagnose())).containsExactly("receiver");
    }

    @Test
    void one_stalled_browser_is_that_subscriber_not_fanout() {
        Node n = new Node().hop(HOP_PUBLISHED_WRITTEN, 1_000_000, 900, 500, 20_000);
        n.subscribers.add(reader(3, "/127.0.0.1:5100", 4200, 0.9));
        n.subscribers.add(reader(4, "/127.0.0.1:5101", 0, 0));
        Diagnosis d = n.diagnose();
        assertThat(stages(d)).containsExactly("subscriber");
        Finding f = d.findings().get(0);
        assertThat(f.subject())
                .containsEntry("user", "user3")
                .containsEntry("remote", "/127.0.0.1:5100")
                .containsEntry("jobs", List.of(7L));
        assertThat(f.evidence()).containsEntry("outbox_depth", 4200L);
        assertThat(f.action()).endsWith("#finding-subscriber");
    }

    @Test
    void a_subscriber_behind_for_a_moment_is_not_a_finding() {
        Node n = new Node();
        n.subscribers.add(reader(3, "/127.0.0.1:5100", 300, 0.2));
        assertThat(n.diagnose().healthy()).isTrue();
    }

    @Test
    void slow_writes_to_most_subscribers_are_fanout() {
        Node n = new Node().hop(HOP_PUBLISHED_WRITTEN, 1_000_000, 1500, 2000, 5000);
        n.connections = 10;
        assertThat(stages(n.diagnose())).containsExactly("fanout");
    }

    @Test
    void a_slow_commit_to_publish_in_cluster_mode_is_the_relay() {
        Node n = new Node().hop(HOP_COMMITTED_PUBLISHED, 300_000, 800, 1000, 2000);
        n.cluster = true;
        n.relay = new Readings.Relay(3000, 6000, 0);
        Diagnosis d = n.diagnose();
        assertThat(stages(d)).containsExactly("relay");
        assertThat(d.findings().get(0).evidence()).containsEntry("relay_received", 6000L);
    }

    @Test
    void emitters_over_their_rate_limit_are_an_ingest_finding() {
        Node n = new Node();
        n.ingest = new Readings.Ingest(3000, 0, 40_000);
        assertThat(stages(n.diagnose())).containsExactly("ingest");
    }

    @Test
    void findings_are_ranked_by_how_much_of_the_lag_they_explain() {
        Node n = new Node();
        n.batches = new Readings.Batches(40, 1800, 5000, 6, 500, 0.9, 20_000, 0);
        n.hop(HOP_RECEIVED_COMMITTED, 20_000, 900, 1000, 5000); // half of the end-to-end lag
        n.hop(HOP_CREATED_WRITTEN, 100_000, 2000, 2000, 5000);
        n.subscribers.add(reader(3, "/127.0.0.1:5100", 500, 0.6)); // behind 36 s: most of *its* lag
        Diagnosis d = n.diagnose();
        assertThat(stages(d)).containsExactly("subscriber", "database");
        assertThat(d.findings().get(0).explains())
                .isGreaterThan(d.findings().get(1).explains());
    }

    @Test
    void every_stage_named_is_one_of_the_spec() {
        Node n = new Node().hop(HOP_PUBLISHED_WRITTEN, 1_000_000, 1500, 2000, 5000);
        n.connections = 10;
        n.ingest = new Readings.Ingest(3000, 0, 40_000);
        assertThat(stages(n.diagnose())).allMatch(Rules.STAGES::contains);
    }
}
