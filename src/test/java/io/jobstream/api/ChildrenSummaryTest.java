package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ChildrenSummaryTest {

    private static Map<Integer, String> tally(ChildrenSummary s) {
        Map<Integer, String> out = new TreeMap<>();
        s.children().forEach((k, v) -> out.put(k, v[0] + "/" + v[1]));
        return out;
    }

    @Test
    void awx_example_nests_the_verbose_event_under_the_play() {
        ChildrenSummary s = new ChildrenSummary();
        s.visit(1, "uuid1", "", "playbook_on_start");
        s.visit(2, "uuid2", "uuid1", "playbook_on_play_start");
        s.visit(3, "uuid3", "uuid2", "playbook_on_task_start");
        s.visit(4, "uuid4", "", "verbose");
        s.visit(5, "uuid5", "uuid1", "playbook_on_play_start");
        assertThat(s.isTree()).isTrue();
        assertThat(tally(s)).containsExactly(Map.entry(1, "0/4"), Map.entry(2, "1/2"));
        assertThat(s.metaEventNestedUuid()).containsExactly(Map.entry(4, "uuid2"));
    }

    @Test
    void a_verbose_run_before_a_deeper_event_takes_that_events_parent() {
        ChildrenSummary s = new ChildrenSummary();
        s.visit(1, "u1", "", "playbook_on_start");
        s.visit(2, "u2", "u1", "playbook_on_play_start");
        s.visit(3, "v3", "", "verbose");
        s.visit(4, "v4", "", "warning");
        s.visit(5, "u5", "u2", "playbook_on_task_start");
        s.visit(6, "u6", "u5", "runner_on_ok");
        assertThat(s.metaEventNestedUuid()).containsExactly(Map.entry(3, "u2"), Map.entry(4, "u2"));
        assertThat(tally(s)).containsExactly(Map.entry(1, "0/5"), Map.entry(2, "1/4"), Map.entry(5, "4/1"));
    }

    @Test
    void an_event_whose_parent_is_no_longer_open_means_no_tree() {
        ChildrenSummary s = new ChildrenSummary();
        assertThat(s.visit(1, "u1", "", "playbook_on_start")).isTrue();
        s.visit(2, "u2", "u1", "playbook_on_play_start");
        s.visit(3, "t1", "u2", "playbook_on_task_start");
        s.visit(4, "h1", "t1", "runner_on_ok");
        s.visit(5, "t2", "u2", "playbook_on_task_start");
        assertThat(s.visit(6, "h2", "t1", "runner_on_ok")).isFalse(); // free strategy: t1 was closed by t2
        assertThat(s.isTree()).isFalse();
        assertThat(s.children()).isEmpty();
        assertThat(s.metaEventNestedUuid()).isEmpty();
    }

    @Test
    void a_trailing_verbose_run_takes_the_previous_events_parent() {
        ChildrenSummary s = new ChildrenSummary();
        s.visit(1, "u1", "", "playbook_on_start");
        s.visit(2, "u2", "u1", "playbook_on_play_start");
        s.visit(3, "v3", "", "verbose");
        assertThat(s.metaEventNestedUuid()).containsExactly(Map.entry(3, "u1"));
        assertThat(tally(s)).containsExactly(Map.entry(1, "0/2"));
    }

    @Test
    void no_events_give_empty_maps_and_a_tree() {
        ChildrenSummary s = new ChildrenSummary();
        assertThat(s.children()).isEmpty();
        assertThat(s.isTree()).isTrue();
    }
}
