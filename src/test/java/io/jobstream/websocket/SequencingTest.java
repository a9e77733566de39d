package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.broadcast.MemoryEventSource;
import io.jobstream.broadcast.TestEvents;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import io.jobstream.queue.Watermark;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The per-job sequencing of a {@link Subscriber}, against an in-memory store, on manual time. */
class SequencingTest {
    private static final long JOB = 7;
    private static final String GROUP = EventMessages.jobEventsGroup(JOB);
    private static final long GAP_WAIT = 1_000;
    private static final long HOLE_WAIT = 5_000;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);
    private final MemoryEventSource store = new MemoryEventSource();
    private final ManualBackground background = new ManualBackground();
    private final SubscriberTest.FakeSender sender = new SubscriberTest.FakeSender();
    private final SteppedWatermark watermark = new SteppedWatermark();

    /** A queue position that moves when the test says: marks are taken at {@code now}, committed below {@code low}. */
    private static final class SteppedWatermark implements Watermark {
        volatile long now = 100;
        volatile long low = 101; // like the memory queue: nothing held elsewhere

        @Override
        public long mark() {
            return now;
        }

        @Override
        public boolean committedThrough(long mark) {
            return low > mark;
        }
    }

    private Subscriber subscriber(int capacity, int rate) {
        return subscriber(capacity, rate, RecentFrames.none());
    }

    /** With {@code recent} as the node's recent frames, fed by the hub. */
    private Subscriber subscriber(int capacity, int rate, RecentFrames recent) {
        hub.tap(recent);
        return new Subscriber(
                sender,
                new Subscriber.Shared(
                        new JobFeed.Policy(capacity, capacity, GAP_WAIT, HOLE_WAIT, rate),
                        Runnable::run,
                        background,
                        store,
                        hub,
                        new WsMetrics(registry),
                        background,
                        watermark,
                        recent));
    }

    /** Completes sends and runs the background until nothing is in flight (at most {@code rounds} sends). */
    private void drain(int rounds, long advanceMillis) {
        for (int i = 0; i < rounds && !sender.pending.isEmpty(); i++) {
            sender.completeOne();
            background.runPending();
            if (advanceMillis > 0) background.advance(advanceMillis);
        }
    }

    private Subscriber subscribed(Map<Long, Integer> resume) {
        Subscriber subscriber = subscriber(10_000, 0);
        sender.sync = true;
        subscriber.subscribe(Set.of(GROUP), resume);
        background.runPending();
        return subscriber;
    }

    private static StoredEvent event(int counter) {
        return TestEvents.stored(1000 + counter, JOB, counter, "line " + counter);
    }

    /** Commits then broadcasts these counters, as the receiver does. */
    private void commit(int... counters) {
        List<StoredEvent> batch = new ArrayList<>();
        for (int c : counters) batch.add(event(c));
        batch.forEach(store::add);
        broadcaster.publish(new CommittedBatch(batch, List.of()));
    }

    /** Broadcasts without storing: the live frame of an event whose commit is not visible yet (or a redelivery). */
    private void live(int... counters) {
        List<StoredEvent> batch = new ArrayList<>();
        for (int c : counters) batch.add(event(c));
        broadcaster.publish(new CommittedBatch(batch, List.of()));
    }

    /** Counters of the events sent so far, batched frames flattened; replies skipped. */
    private List<Integer> sentCounters() throws Exception {
        List<Integer> counters = new ArrayList<>();
        for (String frame : sender.sent) {
            JsonNode node = Json.MAPPER.readTree(frame);
            if (node.isArray()) {
                for (JsonNode e : node) counters.add(e.get("counter").asInt());
            } else if (node.has("counter")) {
                counters.add(node.get("counter").asInt());
            }
        }
        return counters;
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.rangeClosed(from, to).boxed().toList();
    }

    private double count(String name) {
        return registry.get(name).counter().count();
    }

    @Test
    void a_subscriber_past_its_byte_budget_catches_up_from_the_store_and_gets_every_event_once_in_order()
            throws Exception {
        OutboxBytes budget = new OutboxBytes(4_000, 1 << 20, 1 << 20); // room for about three of these events
        Subscriber subscriber = new Subscriber(
                sender,
                Subscriber.Shared.local(
                        new JobFeed.Policy(10_000, 10_000, GAP_WAIT, HOLE_WAIT, 0, 4_000),
                        Runnable::run,
                        background,
                        store,
                        hub,
                        new WsMetrics(registry),
                        background),
                budget.open(1));
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();

        for (int c = 1; c <= 20; c++) commit(c); // the client reads nothing meanwhile
        assertThat(budget.held()).as("bytes held").isLessThanOrEqualTo(4_000);
        assertThat(sentCounters()).hasSizeLessThan(5);
        assertThat(registry.get("ws.catchups")
                        .tag("reason", "overflow")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);

        for (int rounds = 0; rounds < 1_000 && !sender.pending.isEmpty(); rounds++) {
            while (!sender.pending.isEmpty()) sender.completeOne();
            background.runPending();
            assertThat(budget.held()).isLessThanOrEqualTo(4_000);
        }
        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 20));
        assertThat(budget.held()).as("all given back once written").isZero();
    }

    @Test
    void events_committed_out_of_order_reach_the_client_in_counter_order_exactly_once() throws Exception {
        subscribed(Map.of());

        commit(3);
        commit(1);
        commit(2, 1);
        live(3, 2);
        commit(4);

        assertThat(sentCounters()).containsExactly(1, 2, 3, 4);
        assertThat(count("ws.events.duplicate")).isEqualTo(3);
        assertThat(store.reads.get())
                .as("no page was read from the store; the gaps filled live")
                .isZero();
    }

    @Test
    void a_subscription_without_resume_starts_after_what_is_stored() throws Exception {
        commit(1, 2, 3);
        subscribed(Map.of());

        commit(4);

        assertThat(sentCounters()).containsExactly(4);
    }

    @Test
    void a_gap_that_stays_open_is_filled_from_the_store_and_the_stream_goes_on_live() throws Exception {
        subscribed(Map.of());
        commit(1);
        store.add(event(2)); // committed, but its live frame never came (e.g. lost by a relay)
        commit(3);
        assertThat(sentCounters()).containsExactly(1);

        background.advance(GAP_WAIT);
        assertThat(sentCounters()).containsExactly(1, 2, 3);

        commit(4);
        assertThat(sentCounters()).containsExactly(1, 2, 3, 4);
        assertThat(registry.get("ws.catchups").tag("reason", "gap").counter().count())
                .isEqualTo(1);
    }

    @Test
    void the_last_events_of_a_job_whose_live_frames_were_lost_are_read_from_the_store_when_its_end_commits()
            throws Exception {
        subscribed(Map.of());
        commit(1);
        store.add(event(2)); // committed, but their live frames never came (a relay lost them): no later frame will
        store.add(event(3)); // show the gap
        broadcaster.publish(new CommittedBatch(List.of(), List.of(new JobChange(JOB, "successful", 3, true))));
        assertThat(sentCounters())
                .as("the frames may still be on their way: wait")
                .containsExactly(1);

        background.advance(GAP_WAIT);
        assertThat(sentCounters()).containsExactly(1, 2, 3);
        assertThat(registry.get("ws.catchups").tag("reason", "gap").counter().count())
                .isEqualTo(1);
    }

    @Test
    void a_job_whose_every_frame_came_ends_without_a_store_read() throws Exception {
        subscribed(Map.of());
        commit(1, 2);
        live(3); // the last frame came before the end commits (another node's)
        store.add(event(3));
        broadcaster.publish(new CommittedBatch(List.of(), List.of(new JobChange(JOB, "successful", 3, true))));
        background.advance(GAP_WAIT);

        assertThat(sentCounters()).containsExactly(1, 2, 3);
        assertThat(store.reads.get()).isZero();
    }

    @Test
    void frames_that_arrive_within_the_wait_after_the_end_need_no_store_read() throws Exception {
        subscribed(Map.of());
        commit(1);
        broadcaster.publish(new CommittedBatch(List.of(), List.of(new JobChange(JOB, "successful", 3, true))));
        commit(2, 3); // committed by another node, relayed after the end
        background.advance(GAP_WAIT);

        assertThat(sentCounters()).containsExactly(1, 2, 3);
        assertThat(store.reads.get()).isZero();
    }

    @Test
    void events_committed_before_the_relay_carried_the_job_here_are_read_from_the_store_on_a_recheck()
            throws Exception {
        subscribed(Map.of());
        commit(1);
        store.add(event(2)); // committed elsewhere before this node's subscription to the job's channel was confirmed
        hub.recheck(JOB);
        background.runPending();
        assertThat(sentCounters()).containsExactly(1, 2);

        commit(3);
        live(2);
        assertThat(sentCounters()).as("live again, nothing twice").containsExactly(1, 2, 3);
        assertThat(registry.get("ws.catchups").tag("reason", "gap").counter().count())
                .as("a recheck is no catch-up")
                .isZero();
    }

    @Test
    void a_recheck_with_nothing_missed_reads_once_and_stays_live() throws Exception {
        subscribed(Map.of());
        commit(1, 2);
        int reads = store.reads.get();
        hub.recheck(JOB);
        background.runPending();
        commit(3);

        assertThat(sentCounters()).containsExactly(1, 2, 3);
        assertThat(store.reads.get() - reads).isEqualTo(1);
    }

    @Test
    void a_permanent_hole_is_skipped_after_the_hole_wait_and_never_blocks_the_stream() throws Exception {
        subscribed(Map.of());
        commit(1);
        commit(3, 4); // counter 2 is lost by its emitter
        background.advance(GAP_WAIT);
        assertThat(sentCounters()).as("waiting for the hole").containsExactly(1);

        background.advance(HOLE_WAIT - 200);
        assertThat(sentCounters()).as("still waiting for the hole").containsExactly(1);
        commit(5); // arrives meanwhile: read from the store once the hole is passed
        background.advance(400);
        assertThat(sentCounters()).containsExactly(1, 3, 4, 5);
        assertThat(count("ws.holes.skipped")).isEqualTo(1);

        commit(6);
        commit(2); // late (e.g. a dead node's event, claimed by another): sent out of order rather than lost
        assertThat(sentCounters()).containsExactly(1, 3, 4, 5, 6, 2);
        assertThat(count("ws.events.late")).isEqualTo(1);
        live(2); // but only once
        commit(7);
        assertThat(sentCounters()).containsExactly(1, 3, 4, 5, 6, 2, 7);
    }

    @Test
    void issue_12_a_hole_a_dead_node_still_holds_is_waited_for_until_the_queue_committed_it_then_sent_in_order()
            throws Exception {
        subscribed(Map.of());
        commit(1);
        watermark.low = 50; // counter 2 sits uncommitted in the queue (a killed node read it)
        commit(3, 4);
        background.advance(GAP_WAIT + 3 * HOLE_WAIT);
        assertThat(sentCounters())
                .as("waiting past the hole wait: a node still holds it")
                .containsExactly(1);

        commit(2); // claimed and committed by a survivor; its live frame comes while the subscriber reads the store
        watermark.now = 300;
        watermark.low = 200;
        background.advance(HOLE_POLL);
        assertThat(sentCounters()).containsExactly(1, 2, 3, 4);
        assertThat(count("ws.holes.skipped")).isZero();
        assertThat(count("ws.events.late")).isZero();

        // a counter its emitter never sent: skipped once the queue has committed everything it held at the hole
        watermark.low = 250;
        commit(6);
        background.advance(GAP_WAIT + HOLE_WAIT);
        assertThat(sentCounters())
                .as("the queue still holds what it had when the hole was seen")
                .containsExactly(1, 2, 3, 4);
        watermark.low = 301;
        background.advance(2 * HOLE_POLL);
        assertThat(sentCounters()).containsExactly(1, 2, 3, 4, 6);
        assertThat(count("ws.holes.skipped")).isEqualTo(1);
    }

    @Test
    void a_hole_that_fills_within_the_wait_is_delivered_in_order() throws Exception {
        subscribed(Map.of());
        commit(1);
        commit(3, 4);
        background.advance(GAP_WAIT + 500);
        store.add(event(2)); // the slow emitter's event is committed; its live frame comes while catching up
        live(2);
        background.advance(HOLE_POLL);

        assertThat(sentCounters()).containsExactly(1, 2, 3, 4);
        assertThat(count("ws.holes.skipped")).isZero();
    }

    private static final long HOLE_POLL = JobFeed.HOLE_POLL_MILLIS;

    @Test
    void resume_replays_what_was_missed_then_continues_live_without_gap_or_duplicate() throws Exception {
        for (int c = 1; c <= 10; c++) commit(c);
        Subscriber subscriber = subscriber(10_000, 0);
        sender.sync = true;
        subscriber.subscribe(Set.of(GROUP), Map.of(JOB, 4));
        commit(11, 12); // live while the replay has not run yet
        background.runPending();
        commit(12, 13);

        assertThat(sentCounters()).containsExactlyElementsOf(range(5, 13));
        JsonNode reply = Json.MAPPER.readTree(sender.sent.get(0));
        assertThat(reply.get("groups_current").get(0).asText()).isEqualTo(GROUP);
        assertThat(reply.get("resumed").get("7").asInt()).isEqualTo(4);
    }

    @Test
    void the_replayed_frame_is_identical_to_the_live_one() throws Exception {
        subscribed(Map.of());
        commit(1);
        Subscriber resumed = subscriber(10_000, 0);
        SubscriberTest.FakeSender own = sender;
        resumed.subscribe(Set.of(GROUP), Map.of(JOB, 0));
        background.runPending();

        List<String> events =
                own.sent.stream().filter(f -> f.contains("\"counter\"")).toList();
        assertThat(events).hasSize(2);
        assertThat(events.get(1)).isEqualTo(events.get(0));
        assertThat(events.get(0)).isEqualTo(EventMessages.event(event(1)));
    }

    @Test
    void an_overflowing_job_is_caught_up_from_the_store_and_rejoins_live_with_no_gap() throws Exception {
        Subscriber subscriber = subscriber(5, 0);
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne(); // the groups reply
        for (int c = 1; c <= 40; c++) commit(c);
        assertThat(subscriber.queued()).isLessThanOrEqualTo(5);
        assertThat(subscriber.closeReason()).isNull();
        assertThat(registry.get("ws.over.capacity")
                        .tag("group", "job_events")
                        .counter()
                        .count())
                .isEqualTo(1);

        boolean committedWhileCatchingUp = false;
        for (int i = 0; i < 200 && !sender.pending.isEmpty(); i++) {
            sender.completeOne();
            background.runPending();
            if (i >= 5 && !committedWhileCatchingUp && !subscriber.catchingUp().isEmpty()) {
                commit(41, 42); // live while it catches up
                committedWhileCatchingUp = true;
            }
        }
        assertThat(committedWhileCatchingUp).isTrue();
        commit(43);
        while (!sender.pending.isEmpty()) sender.completeOne();

        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 43));
        // Handing over to the 5 kept frames while the reader's last page fills this 5-message outbox overflows once
        // more (a second, short catch-up: nothing lost or repeated). Before flushes were coalesced (issue 15) Jetty's
        // window of 32 unwritten frames emptied the outbox under this test; in a node the outbox holds 10,000.
        assertThat(registry.get("ws.catchups")
                        .tag("reason", "overflow")
                        .counter()
                        .count())
                .isBetween(1.0, 2.0);
        assertThat(subscriber.queued()).isZero();
    }

    @Test
    void a_catch_up_reads_from_the_store_only_what_its_kept_live_frames_do_not_hold() throws Exception {
        Subscriber subscriber = subscriber(5, 0); // outbox 5, live frames kept during a catch-up 5
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        // 1 in flight and 5 queued behind it: 7 overflows; of 7..50 the newest 5 (46..50) are kept
        for (int c = 1; c <= 50; c++) commit(c);

        for (int i = 0; i < 200 && !sender.pending.isEmpty(); i++) {
            sender.completeOne();
            background.runPending();
        }

        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 50));
        assertThat(count("ws.events.replayed"))
                .as("7..45 from the store, 46..50 from the kept live frames")
                .isEqualTo(39);
    }

    @Test
    void an_overflow_whose_live_frames_were_all_kept_needs_no_store_read() throws Exception {
        Subscriber subscriber = subscriber(5, 0);
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        for (int c = 1; c <= 11; c++) commit(c); // 1 in flight, 5 queued: 7 overflows; 7..11 are kept

        for (int i = 0; i < 200 && !sender.pending.isEmpty(); i++) {
            sender.completeOne();
            background.runPending();
        }

        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 11));
        assertThat(store.reads.get()).isZero();
        assertThat(registry.get("ws.catchups")
                        .tag("reason", "overflow")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    /** Recent live frames ({@link RecentFrames}) on the test's time. */
    private RecentFrames recentFrames(long maxBytes) {
        return new RecentFrames(maxBytes, registry, () -> background.millis() * 1_000_000L);
    }

    @Test
    void an_overflow_caught_up_within_the_recent_window_reads_nothing_from_the_store() throws Exception {
        Subscriber subscriber = subscriber(5, 0, recentFrames(1 << 20));
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        // as above: 7 overflows and 7..45 are neither queued nor among the 5 kept per subscriber
        for (int c = 1; c <= 50; c++) commit(c);
        int storeReads = store.reads.get();

        drain(200, 0);

        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 50));
        assertThat(store.reads.get()).as("store reads during the catch-up").isEqualTo(storeReads);
        assertThat(registry.get("ws.catchup.reads")
                        .tag("from", "recent")
                        .counter()
                        .count())
                .isPositive();
        commit(51);
        while (!sender.pending.isEmpty()) sender.completeOne();
        assertThat(sentCounters()).as("live again").containsExactlyElementsOf(range(1, 51));
    }

    @Test
    void frames_older_than_the_recent_window_are_read_from_the_store() throws Exception {
        Subscriber subscriber = subscriber(5, 0, recentFrames(1 << 20));
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        for (int c = 1; c <= 50; c++) commit(c);
        background.advance(RecentFrames.KEEP_NANOS / 1_000_000 + 1); // the client was away for longer
        int storeReads = store.reads.get();

        drain(200, 0);

        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 50));
        assertThat(store.reads.get()).isGreaterThan(storeReads);
    }

    @Test
    void live_frames_out_of_counter_order_are_caught_up_in_order_through_the_recent_frames() throws Exception {
        Subscriber subscriber = subscriber(5, 0, recentFrames(1 << 20));
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        // two emitters' batches interleaved: the kept run restarts at each break in the counters
        for (int c = 1; c <= 48; c += 4) {
            commit(c, c + 2);
            commit(c + 1, c + 3);
        }

        drain(400, GAP_WAIT);

        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 48));
    }

    @Test
    void batched_frames_carry_the_queued_events_as_one_array_in_counter_order() throws Exception {
        Subscriber subscriber = subscriber(10_000, 0);
        subscriber.batch(true);
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        commit(1);
        commit(3, 2, 4, 5);
        sender.completeOne();
        sender.completeOne();

        assertThat(sender.sent.subList(1, sender.sent.size())).hasSize(2);
        assertThat(Json.MAPPER.readTree(sender.sent.get(1)).size()).isEqualTo(1);
        assertThat(Json.MAPPER.readTree(sender.sent.get(2)).size()).isEqualTo(4);
        assertThat(sentCounters()).containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    void batched_frames_joined_from_encoded_events_keep_non_ascii_text_intact() throws Exception {
        Subscriber subscriber = subscriber(10_000, 0);
        subscriber.batch(true);
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        sender.completeOne();
        List<StoredEvent> batch = List.of(
                TestEvents.stored(1001, JOB, 1, "caf\u00e9 \u2713"),
                TestEvents.stored(1002, JOB, 2, "\ud83d\ude80 \u00fcber"));
        batch.forEach(store::add);
        broadcaster.publish(new CommittedBatch(batch, List.of()));
        while (!sender.pending.isEmpty()) sender.completeOne();

        List<String> stdout = new ArrayList<>();
        for (String frame : sender.sent.subList(1, sender.sent.size())) {
            JsonNode node = Json.MAPPER.readTree(frame);
            for (JsonNode e :
                    node.isArray() ? node : Json.MAPPER.createArrayNode().add(node)) {
                stdout.add(e.get("stdout").asText());
            }
        }
        assertThat(stdout).containsExactly("caf\u00e9 \u2713", "\ud83d\ude80 \u00fcber");
    }

    @Test
    void the_event_rate_limit_delays_the_excess_and_loses_nothing() throws Exception {
        Subscriber subscriber = subscriber(10_000, 10);
        sender.sync = true;
        subscriber.subscribe(Set.of(GROUP), Map.of());
        background.runPending();
        for (int c = 1; c <= 35; c++) commit(c);
        background.runPending();
        assertThat(sentCounters()).as("one second's worth").hasSize(10);

        background.advance(1_000);
        assertThat(sentCounters()).hasSize(20);
        background.advance(3_000);
        assertThat(sentCounters()).containsExactlyElementsOf(range(1, 35));
    }

    @Test
    void a_failing_store_read_is_retried() throws Exception {
        for (int c = 1; c <= 3; c++) commit(c);
        store.failing(true);
        Subscriber subscriber = subscriber(10_000, 0);
        sender.sync = true;
        subscriber.subscribe(Set.of(GROUP), Map.of(JOB, 0));
        background.runPending();
        assertThat(sentCounters()).isEmpty();

        store.failing(false);
        background.advance(JobFeed.RETRY_MILLIS);
        assertThat(sentCounters()).containsExactly(1, 2, 3);
        assertThat(count("ws.catchup.failures")).isEqualTo(1);
    }
}
