package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.Decoded;
import io.jobstream.event.EventDecoder;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.Receipt;
import io.jobstream.testing.Events;
import io.jobstream.testing.ManualClock;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XClaimParams;
import redis.clients.jedis.params.XReadGroupParams;

/**
 * The stream queue against a real redis-server, what only a durable shared queue promises: acknowledgement after
 * commit, restart, claims from dead nodes, poison, outage. What every queue promises is in {@link RedisEventQueueContractIT}.
 */
class RedisEventQueueIT {
    @TempDir
    Path dir;

    RedisServer server;
    RedisConnection connection;
    RedisClient redis;
    final Set<String> alive = new java.util.concurrent.CopyOnWriteArraySet<>();
    final EventDecoder decoder = new EventDecoder(1 << 20, Clock.systemUTC());

    @BeforeEach
    void start() {
        server = RedisServer.start(dir, false);
        connection = RedisConnection.open(server.url(), 8);
        redis = connection.client();
    }

    @AfterEach
    void stop() {
        connection.close();
        server.close();
    }

    /** Claims are looked for once a second on this clock; a pause after a Redis error advances it. */
    final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    private RedisEventQueue queue(String node, int capacity) {
        alive.add(node);
        return new RedisEventQueue(
                connection, node, capacity, alive::contains, false, new SimpleMeterRegistry(), clock, clock::advance);
    }

    private void pastTheClaimInterval() {
        clock.advance(Duration.ofMillis(1100));
    }

    private List<Envelope> envelopes(long job, int from, int to, AtomicInteger stored) {
        List<Envelope> out = new ArrayList<>();
        for (int c = from; c <= to; c++) {
            var message = ((Decoded.Ok) decoder.decodeBody(Events.event(job, c)).get(0)).message();
            out.add(new Envelope(message, new Receipt() {
                @Override
                public void stored() {
                    stored.incrementAndGet();
                }

                @Override
                public void duplicate() {}

                @Override
                public void failed(String reason) {}
            }));
        }
        return out;
    }

    private static List<Envelope> drain(RedisEventQueue q) throws InterruptedException {
        List<Envelope> sink = new ArrayList<>();
        q.drainTo(sink, 1000, Duration.ofMillis(100));
        return sink;
    }

    @Test
    void entries_stay_pending_until_the_receiver_reports_them_and_are_deleted_once_acknowledged() throws Exception {
        RedisEventQueue q = queue("n1", 1000);
        AtomicInteger accepted = new AtomicInteger();
        assertThat(q.offerAll(envelopes(1, 1, 5, accepted))).isTrue();
        assertThat(accepted.get())
                .as("receipts completed once durable in the stream")
                .isEqualTo(5);

        assertThat(redis.xlen(RedisKeys.EVENTS))
                .as("one request, one batch entry")
                .isEqualTo(1);
        assertThat(redis.get(RedisKeys.QUEUED)).as("the bound counts events").isEqualTo("5");

        List<Envelope> batch = drain(q);
        assertThat(batch).hasSize(5);
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isEqualTo(1);
        batch.subList(0, 4).forEach(e -> e.receipt().stored());
        assertThat(drain(q)).isEmpty();
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal())
                .as("an entry is acknowledged only once all its messages are reported")
                .isEqualTo(1);
        batch.get(4).receipt().stored();
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal())
                .as("not before the next drain")
                .isEqualTo(1);
        assertThat(drain(q)).isEmpty();
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isZero();
        assertThat(redis.xlen(RedisKeys.EVENTS))
                .as("acknowledged entries are deleted")
                .isZero();
        assertThat(redis.get(RedisKeys.QUEUED)).isEqualTo("0");
    }

    @Test
    void a_node_restarted_under_its_name_first_finishes_what_it_had_read_and_not_reported() throws Exception {
        RedisEventQueue before = queue("n1", 1000);
        before.offerAll(envelopes(6, 1, 3, new AtomicInteger()));
        List<Envelope> held = drain(before);
        held.get(0).receipt().stored(); // reported, but the node dies before its next drain acknowledges it
        RedisEventQueue after = queue("n1", 1000);
        after.offerAll(envelopes(6, 4, 4, new AtomicInteger()));
        List<Envelope> again = drain(after);
        assertThat(again)
                .as("its own pending entries first, the reported one too (a duplicate to the store)")
                .extracting(e -> ((io.jobstream.event.JobEvent) e.message()).counter())
                .containsExactly(1, 2, 3);
        again.forEach(e -> e.receipt().stored());
        assertThat(drain(after))
                .extracting(e -> ((io.jobstream.event.JobEvent) e.message()).counter())
                .containsExactly(4);
    }

    @Test
    void a_dead_nodes_pending_entries_are_claimed_and_a_live_nodes_are_not() throws Exception {
        RedisEventQueue a = queue("a", 1000);
        RedisEventQueue b = queue("b", 1000);
        a.offerAll(envelopes(2, 1, 3, new AtomicInteger()));
        assertThat(drain(a)).hasSize(3); // a holds them, uncommitted
        pastTheClaimInterval();
        assertThat(drain(b)).as("a is alive: its entries are its own").isEmpty();

        alive.remove("a"); // heartbeat expired
        pastTheClaimInterval();
        List<Envelope> claimed = drain(b);
        assertThat(claimed).hasSize(3);
        claimed.forEach(e -> e.receipt().stored());
        drain(b);
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isZero();
    }

    /** The oldest undelivered entry, read by MAX_DELIVERIES nodes in turn, each dying before it committed. */
    private StreamEntryID readByNodesThatDie() {
        var read = redis.xreadGroup(
                RedisKeys.GROUP,
                "dead0",
                XReadGroupParams.xReadGroupParams().count(1),
                Map.of(RedisKeys.EVENTS, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
        StreamEntryID id = read.get(0).getValue().get(0).getID();
        for (int i = 1; i < DeadNodeClaims.MAX_DELIVERIES; i++) {
            redis.xclaim(RedisKeys.EVENTS, RedisKeys.GROUP, "dead" + i, 0, XClaimParams.xClaimParams(), id);
        }
        return id;
    }

    @Test
    void an_entry_that_keeps_killing_nodes_goes_to_the_dead_letter_stream_instead_of_looping() throws Exception {
        RedisEventQueue survivor = queue("survivor", 1000);
        survivor.offerAll(envelopes(3, 1, 1, new AtomicInteger()));
        // five nodes in turn read it and die before committing
        StreamEntryID id = readByNodesThatDie();
        pastTheClaimInterval();
        assertThat(drain(survivor)).isEmpty();
        assertThat(redis.xlen(RedisKeys.DEAD)).isEqualTo(1);
        assertThat(redis.xrange(RedisKeys.DEAD, (StreamEntryID) null, null)
                        .get(0)
                        .getFields())
                .containsKey("m")
                .containsEntry("id", id.toString());
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isZero();
    }

    @Test
    void while_redis_is_down_intake_refuses_and_the_drainer_waits_then_both_resume() throws Exception {
        RedisEventQueue q = queue("n1", 1000);
        server.stop();
        AtomicInteger accepted = new AtomicInteger();
        assertThat(q.offerAll(envelopes(5, 1, 2, accepted))).isFalse();
        assertThat(accepted.get()).as("no receipt for a refused request").isZero();
        assertThat(drain(q)).isEmpty();
        assertThat(q.redisDown()).isTrue();
        server.restart(); // same port; without persistence the group is gone too, and is created again
        assertThat(q.offerAll(envelopes(5, 1, 2, accepted)))
                .as("the client reconnected")
                .isTrue();
        List<Envelope> batch = new ArrayList<>();
        for (int i = 0; i < 3 && batch.isEmpty(); i++) batch = drain(q);
        assertThat(batch).hasSize(2);
        assertThat(q.redisDown()).isFalse();
    }

    private static List<Integer> counters(List<Envelope> batch) {
        return batch.stream()
                .map(e -> e.message() instanceof io.jobstream.event.JobEvent ev ? ev.counter() : -1)
                .toList();
    }

    @Test
    void entries_of_an_older_node_and_batch_entries_are_read_in_stream_order_and_the_count_stays_right()
            throws Exception {
        RedisEventQueue q = queue("n1", 1000);
        AtomicInteger accepted = new AtomicInteger();
        var one = envelopes(11, 1, 3, accepted);
        // what a node of session 9 appended (compact, one message an entry), and of before it (JSON), uncounted
        redis.xadd(
                RedisKeys.EVENTS,
                XAddParams.xAddParams(),
                Map.of("m", ClusterCodec.encode(one.get(0).message())));
        redis.xadd(
                RedisKeys.EVENTS,
                XAddParams.xAddParams(),
                Map.of("m", ClusterCodec.encodeJson(one.get(1).message())));
        assertThat(q.offerAll(envelopes(11, 3, 6, accepted))).isTrue();
        redis.xadd(
                RedisKeys.EVENTS,
                XAddParams.xAddParams(),
                Map.of(
                        "m",
                        ClusterCodec.encode(envelopes(11, 7, 7, accepted).get(0).message())));
        assertThat(redis.get(RedisKeys.QUEUED))
                .as("only the batch entry was counted")
                .isEqualTo("4");

        List<Envelope> all = new ArrayList<>();
        for (int i = 0; i < 5 && all.size() < 7; i++) all.addAll(drain(q));
        assertThat(counters(all)).containsExactly(1, 2, 3, 4, 5, 6, 7);
        all.forEach(e -> e.receipt().stored());
        drain(q);
        assertThat(redis.xlen(RedisKeys.EVENTS)).isZero();
        assertThat(redis.get(RedisKeys.QUEUED))
                .as("old entries take nothing off the count; it never goes below 0")
                .isEqualTo("0");
        assertThat(redis.exists(RedisKeys.DEAD)).isFalse();
    }

    @Test
    void a_dead_nodes_partly_committed_batch_entry_is_claimed_whole_and_acknowledged_once_all_of_it_is_reported()
            throws Exception {
        RedisEventQueue a = queue("a", 1000);
        RedisEventQueue b = queue("b", 1000);
        a.offerAll(envelopes(12, 1, 10, new AtomicInteger()));
        // a commits 4 of its 10 (a drain of at most 4, like a small persist.max-batch) and dies before acknowledging
        List<Envelope> partly = new ArrayList<>();
        a.drainTo(partly, 4, Duration.ofMillis(100));
        assertThat(counters(partly)).containsExactly(1, 2, 3, 4);
        partly.forEach(e -> e.receipt().stored());
        alive.remove("a");
        pastTheClaimInterval();

        List<Envelope> first = new ArrayList<>();
        b.drainTo(first, 6, Duration.ofMillis(100));
        assertThat(counters(first))
                .as("the whole entry, in order, the committed part again (duplicates to the store)")
                .containsExactly(1, 2, 3, 4, 5, 6);
        first.forEach(e -> e.receipt().duplicate());
        List<Envelope> rest = new ArrayList<>();
        b.drainTo(rest, 6, Duration.ofMillis(100));
        assertThat(counters(rest)).containsExactly(7, 8, 9, 10);
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal())
                .as("not acknowledged while part of it is unreported")
                .isEqualTo(1);
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getConsumerMessageCount())
                .containsOnlyKeys("b");
        rest.forEach(e -> e.receipt().stored());
        assertThat(drain(b)).isEmpty();
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isZero();
        assertThat(redis.get(RedisKeys.QUEUED)).isEqualTo("0");
        assertThat(b.depth()).isZero();
    }

    @Test
    void the_bound_is_in_events_whatever_the_entries_and_a_stream_deleted_by_hand_does_not_leave_it_full()
            throws Exception {
        RedisEventQueue q = queue("n1", 10);
        assertThat(q.offerAll(envelopes(13, 1, 8, new AtomicInteger()))).isTrue();
        assertThat(q.offerAll(envelopes(13, 9, 11, new AtomicInteger())))
                .as("8 + 3 events > 10, though the stream holds one entry")
                .isFalse();
        assertThat(q.offerAll(envelopes(13, 9, 10, new AtomicInteger()))).isTrue();
        assertThat(q.offerAll(envelopes(13, 11, 11, new AtomicInteger())))
                .as("full")
                .isFalse();
        assertThat(redis.xlen(RedisKeys.EVENTS)).isEqualTo(2);
        // an operator deletes the stream (and group) by hand: the count left behind must not keep intake refusing
        redis.del(RedisKeys.EVENTS);
        assertThat(q.offerAll(envelopes(13, 11, 11, new AtomicInteger()))).isTrue();
        assertThat(redis.get(RedisKeys.QUEUED)).isEqualTo("1");
    }

    @Test
    void a_batch_entry_that_keeps_killing_nodes_becomes_one_dead_letter_per_message() throws Exception {
        RedisEventQueue survivor = queue("survivor", 1000);
        survivor.offerAll(envelopes(14, 1, 3, new AtomicInteger()));
        StreamEntryID id = readByNodesThatDie();
        pastTheClaimInterval();
        assertThat(drain(survivor)).isEmpty();
        var dead = redis.xrange(RedisKeys.DEAD, (StreamEntryID) null, null);
        assertThat(dead).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(dead.get(i).getFields())
                    .containsEntry("id", id.toString())
                    .containsEntry("index", Integer.toString(i));
            var message = (io.jobstream.event.JobEvent)
                    ClusterCodec.decodeMessage(dead.get(i).getFields().get("m"));
            assertThat(message.counter()).isEqualTo(i + 1);
        }
        assertThat(redis.xlen(RedisKeys.EVENTS)).isZero();
        assertThat(redis.get(RedisKeys.QUEUED)).isEqualTo("0");
    }

    @Test
    void an_unreadable_entry_is_dead_lettered_whole_and_the_rest_goes_on() throws Exception {
        RedisEventQueue q = queue("n1", 1000);
        redis.xadd(RedisKeys.EVENTS, XAddParams.xAddParams(), Map.of("m", "~1M2;E1;"));
        q.offerAll(envelopes(15, 1, 2, new AtomicInteger()));
        List<Envelope> all = new ArrayList<>();
        for (int i = 0; i < 3 && all.isEmpty(); i++) all.addAll(drain(q));
        assertThat(counters(all)).containsExactly(1, 2);
        assertThat(redis.xrange(RedisKeys.DEAD, (StreamEntryID) null, null)
                        .get(0)
                        .getFields())
                .containsEntry("m", "~1M2;E1;");
        assertThat(redis.get(RedisKeys.QUEUED)).isEqualTo("2");
    }

    @Test
    void an_entry_acknowledged_by_both_its_claimer_and_the_node_thought_dead_counts_off_once() throws Exception {
        RedisEventQueue a = queue("a", 1000);
        RedisEventQueue b = queue("b", 1000);
        a.offerAll(envelopes(16, 1, 5, new AtomicInteger()));
        List<Envelope> heldByA = drain(a);
        heldByA.forEach(e -> e.receipt().stored()); // committed, not yet acknowledged: a stalls here
        alive.remove("a");
        pastTheClaimInterval();
        List<Envelope> claimed = drain(b);
        assertThat(claimed).hasSize(5);
        claimed.forEach(e -> e.receipt().duplicate());
        b.offerAll(envelopes(16, 6, 8, new AtomicInteger()));
        assertThat(counters(drain(b)))
                .as("acknowledges the claimed entry, reads the next")
                .containsExactly(6, 7, 8);
        assertThat(redis.get(RedisKeys.QUEUED)).isEqualTo("3");
        drain(a); // a wakes up and acknowledges the entry b already acknowledged and deleted
        assertThat(redis.get(RedisKeys.QUEUED))
                .as("an entry's events are taken off once, by whichever XDEL deleted it")
                .isEqualTo("3");
    }
}
