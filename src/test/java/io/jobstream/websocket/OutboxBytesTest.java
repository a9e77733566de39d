package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OutboxBytesTest {
    private final OutboxBytes budget = new OutboxBytes(100, 250, 400);

    @Test
    void a_connection_takes_up_to_its_bound_and_gets_room_back_when_messages_are_written() {
        OutboxBytes.Account a = budget.open(1);
        assertThat(a.take(60, false)).isTrue();
        assertThat(a.take(60, false)).as("past the connection's 100").isFalse();
        assertThat(a.take(40, false)).isTrue();
        a.give(60, false);
        assertThat(a.held()).isEqualTo(40);
        assertThat(budget.held()).isEqualTo(40);
        assertThat(a.take(60, false)).isTrue();
    }

    @Test
    void a_connection_holding_nothing_always_gets_one_message_however_big() {
        OutboxBytes.Account a = budget.open(1);
        assertThat(a.take(1_000, false)).isTrue();
        assertThat(a.take(1, false)).isFalse();
    }

    @Test
    void one_user_is_held_to_its_share_and_others_still_get_theirs() {
        OutboxBytes.Account[] mine = {budget.open(1), budget.open(1), budget.open(1)};
        assertThat(mine[0].take(90, false) && mine[1].take(90, false)).isTrue();
        assertThat(mine[2].take(90, false))
                .as("the user's 250 would be passed: its other connections wait")
                .isFalse();
        assertThat(mine[2].starvedByOwnUser()).isTrue();
        OutboxBytes.Account other = budget.open(2);
        assertThat(other.take(90, false)).isTrue();
        assertThat(budget.held()).isEqualTo(270);
    }

    @Test
    void the_node_total_lets_only_connections_holding_nothing_through() {
        OutboxBytes.Account a = budget.open(1);
        OutboxBytes.Account b = budget.open(2);
        OutboxBytes.Account c = budget.open(3);
        OutboxBytes.Account d = budget.open(4);
        assertThat(a.take(100, false) && b.take(100, false) && c.take(100, false) && d.take(90, false))
                .isTrue();
        assertThat(d.take(10, false)).as("node at 390 of 400, d holds some").isTrue();
        OutboxBytes.Account e = budget.open(5);
        assertThat(e.take(50, false)).as("holds nothing: one message").isTrue();
        assertThat(e.take(1, false)).isFalse();
    }

    @Test
    void a_live_frame_shared_by_subscribers_counts_for_the_connection_only() {
        OutboxBytes.Account a = budget.open(1);
        assertThat(a.take(90, true)).isTrue();
        assertThat(budget.held())
                .as("the user and node totals count frames built per subscriber")
                .isZero();
        assertThat(a.take(20, true)).as("past the connection's 100").isFalse();
        a.give(90, true);
        assertThat(a.held()).isZero();
    }

    @Test
    void the_queue_entries_of_shared_frames_count_for_the_user_and_the_node_so_many_connections_are_bounded() {
        // 10 connections of one user, each queueing shared frames of 5 bytes with a 4-byte entry each
        OutboxBytes.Account[] tabs = new OutboxBytes.Account[10];
        int taken = 0;
        for (int i = 0; i < tabs.length; i++) {
            tabs[i] = budget.open(1);
            while (tabs[i].take(9, 4)) taken++;
        }
        // each connection holds at most 100 (11 entries); the user's 250 of entries (62) stops them first
        assertThat(taken).isBetween(62, 63);
        assertThat(budget.held()).isBetween(248L, 252L);
        for (OutboxBytes.Account tab : tabs) {
            while (tab.held() > 0) tab.give(9, 4);
        }
        assertThat(budget.held()).isZero();
        assertThat(tabs[0].take(9, 4)).as("room again").isTrue();
    }

    @Test
    void closing_gives_everything_back_once_and_later_give_backs_are_ignored() {
        OutboxBytes.Account a = budget.open(1);
        a.take(80, false);
        a.close();
        a.close();
        a.give(80, false); // a send completing after the close
        assertThat(budget.held()).isZero();
        assertThat(a.take(1, false)).isFalse();
        budget.forget(1);
        assertThat(budget.open(1).take(100, false)).isTrue();
    }
}
