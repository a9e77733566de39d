package io.jobstream.broadcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * What the receiver and the websocket layer rely on from every {@link Broadcaster}, run once per implementation
 * (memory in {@code MemoryBroadcasterContractTest}, Redis pub/sub in {@code RedisBroadcasterContractIT}): every node's
 * hub gets each committed batch once, a job's events only in its own group, in batch order (per job), then the batch's status
 * changes, then its summaries; batches in publish order; nothing for an empty batch; an idempotent close.
 *
 * <p>A subclass builds, before each test, a broadcaster and the hubs that must see what it publishes (its own node's
 * and, for a cluster, another node's), each hub joined by {@link #member} to the groups of job 42, job 43, status
 * changes and summaries. Delivery to another node is asynchronous, so assertions wait (with a timeout).
 */
public abstract class BroadcasterContract {
    protected static final List<String> GROUPS =
            List.of("job_events-42", "job_events-43", "jobs-status_changed", "jobs-summary");

    /** The broadcaster under test (the receiver's). */
    protected abstract Broadcaster broadcaster();

    /** One member per node that must see what {@link #broadcaster()} publishes; the first is the publisher's own. */
    protected abstract List<Frames> members();

    /** A status change that comes from no batch (launch, cancel), through the broadcaster under test. */
    private void publishStatus(long jobId, String status, Instant finishedOrNull) {
        broadcaster().publishStatus(jobId, status, finishedOrNull);
    }

    /** What a hub delivered to one member, in order, as {@code "group frame"}. */
    public static final class Frames implements GroupMember {
        public final List<String> frames = new CopyOnWriteArrayList<>();

        @Override
        public boolean offer(String group, String frame) {
            frames.add(group + " " + frame);
            return true;
        }

        /** The jobs this member was asked to compare with the store, as their groups. */
        public final List<String> rechecks = new CopyOnWriteArrayList<>();

        @Override
        public void recheck(String group, long jobId) {
            rechecks.add(group);
        }

        /** The job ends this member was told of, as {@code "group finalCounter"}, in order. */
        public final List<String> ended = new CopyOnWriteArrayList<>();

        @Override
        public void jobEnded(String group, long jobId, int finalCounter) {
            ended.add(group + " " + finalCounter);
        }

        List<String> groups() {
            return frames.stream().map(f -> f.substring(0, f.indexOf(' '))).toList();
        }
    }

    /** Joins a new member to {@link #GROUPS} of {@code hub}. */
    protected static Frames member(Hub hub) {
        Frames f = new Frames();
        for (String g : GROUPS) hub.join(g, f);
        return f;
    }

    private void awaitEach(int frames) {
        for (Frames m : members()) await().atMost(Duration.ofSeconds(5)).until(() -> m.frames.size() >= frames);
    }

    private static String field(String groupAndFrame, String name) {
        try {
            return Json.MAPPER
                    .readTree(groupAndFrame.substring(groupAndFrame.indexOf(' ') + 1))
                    .path(name)
                    .asText();
        } catch (Exception e) {
            throw new AssertionError(groupAndFrame, e);
        }
    }

    @Test
    void every_node_gets_a_batchs_events_in_order_then_its_status_changes_then_its_summaries() {
        broadcaster()
                .publish(new CommittedBatch(
                        List.of(
                                TestEvents.stored(1, 42, 1, "a"),
                                TestEvents.stored(2, 42, 2, "b"),
                                TestEvents.stored(3, 42, 3, "c")),
                        List.of(new JobChange(42, "successful", 3, true))));
        awaitEach(5);
        for (Frames m : members()) {
            assertThat(m.groups())
                    .containsExactly(
                            "job_events-42", "job_events-42", "job_events-42", "jobs-status_changed", "jobs-summary");
            assertThat(m.frames.subList(0, 3))
                    .extracting(f -> field(f, "counter"))
                    .containsExactly("1", "2", "3");
            assertThat(field(m.frames.get(3), "status")).isEqualTo("successful");
            assertThat(field(m.frames.get(4), "final_counter")).isEqualTo("3");
        }
        assertThat(members().get(0).frames)
                .as("every node sees the same")
                .isEqualTo(members().get(members().size() - 1).frames);
    }

    @Test
    void a_jobs_end_reaches_every_nodes_members_of_its_events_group() {
        broadcaster()
                .publish(new CommittedBatch(
                        List.of(TestEvents.stored(1, 42, 1, "a"), TestEvents.stored(2, 42, 2, "b")),
                        List.of(new JobChange(42, "successful", 2, true), new JobChange(43, null, 7, false))));
        awaitEach(4);
        for (Frames m : members()) {
            await().atMost(Duration.ofSeconds(5)).until(() -> m.ended.size() >= 2);
            assertThat(m.ended).containsExactly("job_events-42 2", "job_events-43 7");
            assertThat(m.frames.subList(0, 2))
                    .extracting(f -> field(f, "counter"))
                    .containsExactly("1", "2");
        }
    }

    @Test
    void a_jobs_events_reach_only_its_own_group() {
        broadcaster()
                .publish(new CommittedBatch(
                        List.of(
                                TestEvents.stored(1, 42, 1, "a"),
                                TestEvents.stored(2, 43, 1, "b"),
                                TestEvents.stored(3, 42, 2, "c")),
                        List.of()));
        awaitEach(3);
        for (Frames m : members()) {
            // each job's in batch order; between jobs a cluster relay may reorder (a channel per job)
            List<String> byGroup = m.frames.stream()
                    .map(f -> f.substring(0, f.indexOf(' ')) + " " + field(f, "id"))
                    .toList();
            assertThat(byGroup).containsExactlyInAnyOrder("job_events-42 1", "job_events-43 2", "job_events-42 3");
            assertThat(byGroup.stream().filter(f -> f.startsWith("job_events-42")))
                    .containsExactly("job_events-42 1", "job_events-42 3");
        }
    }

    @Test
    void batches_arrive_in_the_order_they_were_published() {
        for (int c = 1; c <= 50; c++) {
            broadcaster().publish(new CommittedBatch(List.of(TestEvents.stored(c, 42, c, "x" + c)), List.of()));
        }
        awaitEach(50);
        List<String> expected = new ArrayList<>();
        for (int c = 1; c <= 50; c++) expected.add(Integer.toString(c));
        for (Frames m : members())
            assertThat(m.frames).extracting(f -> field(f, "counter")).isEqualTo(expected);
    }

    @Test
    void a_batch_with_neither_events_nor_changes_sends_nothing() {
        broadcaster().publish(new CommittedBatch(List.of(), List.of()));
        broadcaster().publish(new CommittedBatch(List.of(), List.of(new JobChange(42, null, null, true))));
        StoredEvent marker = TestEvents.stored(9, 42, 9, "marker");
        broadcaster().publish(new CommittedBatch(List.of(marker), List.of()));
        awaitEach(1);
        for (Frames m : members())
            assertThat(m.frames).extracting(f -> field(f, "id")).containsExactly("9");
    }

    @Test
    void each_node_gets_a_batch_once() {
        broadcaster().publish(new CommittedBatch(List.of(TestEvents.stored(1, 43, 1, "once")), List.of()));
        broadcaster().publish(new CommittedBatch(List.of(TestEvents.stored(2, 42, 1, "marker")), List.of()));
        awaitEach(2);
        for (Frames m : members()) {
            assertThat(m.frames).extracting(f -> field(f, "id")).containsExactly("1", "2");
        }
    }

    @Test
    void a_status_change_outside_a_batch_reaches_every_node_with_its_finish_time() {
        publishStatus(42, "running", null);
        publishStatus(42, "canceled", Instant.parse("2026-01-01T00:00:01.5Z"));
        awaitEach(2);
        for (Frames m : members()) {
            assertThat(m.groups()).containsExactly("jobs-status_changed", "jobs-status_changed");
            assertThat(m.frames).extracting(f -> field(f, "status")).containsExactly("running", "canceled");
            assertThat(field(m.frames.get(0), "finished")).isEmpty();
            assertThat(field(m.frames.get(1), "finished")).startsWith("2026-01-01T00:00:01.5");
        }
    }

    @Test
    void close_is_idempotent() {
        broadcaster().close();
        broadcaster().close();
    }
}
