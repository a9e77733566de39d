package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FairSlotsTest {
    private static List<String> drain(FairSlots<String> slots) {
        List<String> started = new ArrayList<>();
        for (String s; (s = slots.next()) != null; ) started.add(s);
        return started;
    }

    @Test
    void a_freed_slot_goes_to_the_waiting_user_with_the_fewest_running_jobs_not_to_the_oldest_launch() {
        FairSlots<String> slots = new FairSlots<>(4, 0, 100, 100);
        for (int i = 1; i <= 6; i++) assertThat(slots.add(1, "a" + i)).isNull();
        assertThat(drain(slots)).containsExactly("a1", "a2", "a3", "a4");
        assertThat(slots.add(2, "b1")).isNull();
        assertThat(slots.add(3, "c1")).isNull();
        slots.release(1);
        slots.release(1);
        assertThat(drain(slots)).containsExactlyInAnyOrder("b1", "c1"); // a5, a6 launched first, but alice runs 2
        slots.release(1);
        assertThat(drain(slots)).containsExactly("a5");
    }

    @Test
    void equals_take_turns() {
        FairSlots<String> slots = new FairSlots<>(1, 0, 100, 100);
        for (String job : List.of("a1", "a2", "a3")) slots.add(1, job);
        for (String job : List.of("b1", "b2", "b3")) slots.add(2, job);
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String next = slots.next();
            order.add(next);
            slots.release(next.startsWith("a") ? 1 : 2);
        }
        assertThat(order).containsExactly("a1", "b1", "a2", "b2", "a3", "b3");
    }

    @Test
    void a_user_runs_at_most_their_share_even_with_slots_free() {
        FairSlots<String> slots = new FairSlots<>(4, 3, 100, 100);
        for (int i = 1; i <= 4; i++) slots.add(1, "a" + i);
        assertThat(drain(slots)).containsExactly("a1", "a2", "a3");
        assertThat(slots.pending()).isEqualTo(1);
        slots.add(2, "b1");
        assertThat(drain(slots)).containsExactly("b1");
    }

    @Test
    void the_waiting_room_is_shared_per_user_and_in_all_but_a_job_that_starts_at_once_always_gets_in() {
        FairSlots<String> slots = new FairSlots<>(2, 1, 3, 2);
        assertThat(slots.add(1, "a1")).isNull();
        assertThat(drain(slots)).containsExactly("a1");
        assertThat(slots.add(1, "a2")).isNull();
        assertThat(slots.add(1, "a3")).isNull();
        assertThat(slots.add(1, "a4")).isEqualTo(FairSlots.Refusal.USER_PENDING);
        assertThat(slots.add(2, "b1")).isNull(); // starts at once: a free slot and bob runs nothing
        assertThat(drain(slots)).containsExactly("b1");
        assertThat(slots.add(2, "b2")).isNull();
        assertThat(slots.add(3, "c1")).isEqualTo(FairSlots.Refusal.PENDING); // 3 wait in all
        assertThat(slots.remove(1, "a2")).isTrue();
        assertThat(slots.remove(1, "a2")).isFalse();
        assertThat(slots.add(3, "c1")).isNull();
        assertThat(slots.of(1)).containsExactly(1, 1);
    }

    @Test
    void with_no_waiting_room_a_launch_gets_in_only_when_it_can_start() {
        FairSlots<String> slots = new FairSlots<>(1, 0, 0, 0);
        assertThat(slots.add(1, "a1")).isNull();
        assertThat(drain(slots)).containsExactly("a1");
        assertThat(slots.add(2, "b1")).isEqualTo(FairSlots.Refusal.USER_PENDING);
        slots.release(1);
        assertThat(slots.add(2, "b1")).isNull();
        assertThat(slots.running()).isZero();
        assertThat(drain(slots)).containsExactly("b1");
    }
}
