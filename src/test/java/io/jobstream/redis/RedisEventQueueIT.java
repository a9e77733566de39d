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

        List<Envelope> batch = drain(q);
        assertThat(batch).hasSize(5);
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isEqualTo(5);
        batch.forEach(e -> e.receipt().stored());
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal())
                .as("not before the next drain")
                .isEqualTo(5);
        assertThat(drain(q)).isEmpty();
        assertThat(redis.xpending(RedisKeys.EVENTS, RedisKeys.GROUP).getTotal()).isZero();
        assertThat(redis.xlen(RedisKeys.EVENTS))
                .as("acknowledged entries are deleted")
                .isZero();
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

    @Test
    void an_entry_that_keeps_killing_nodes_goes_to_the_dead_letter_stream_instead_of_looping() throws Exception {
        RedisEventQueue survivor = queue("survivor", 1000);
        survivor.offerAll(envelopes(3, 1, 1, new AtomicInteger()));
        // five nodes in turn read it and die before committing
        var read = redis.xreadGroup(
                RedisKeys.GROUP,
                "dead0",
                XReadGroupParams.xReadGroupParams().count(1),
                Map.of(RedisKeys.EVENTS, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
        StreamEntryID id = read.get(0).getValue().get(0).getID();
        for (int i = 1; i < DeadNodeClaims.MAX_DELIVERIES; i++) {
            redis.xclaim(RedisKeys.EVENTS, RedisKeys.GROUP, "dead" + i, 0, XClaimParams.xClaimParams(), id);
        }
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
}
