package io.jobstream.broadcast;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class HubTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger hubLogger = (Logger) LoggerFactory.getLogger(Hub.class);

    /** Records what it is offered; says "full" when asked to. */
    static final class Member implements GroupMember {
        final List<String> frames = new ArrayList<>();
        boolean full;

        @Override
        public synchronized boolean offer(String group, String frame) {
            if (full) return false;
            frames.add(frame);
            return true;
        }
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        hubLogger.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        hubLogger.detachAppender(logs);
    }

    @Test
    void delivers_the_same_frame_instance_to_every_member_of_the_group_only() {
        Member a = new Member();
        Member b = new Member();
        Member other = new Member();
        hub.join("job_events-42", a);
        hub.join("job_events-42", b);
        hub.join("job_events-43", other);
        String frame = new String("{\"counter\":1}");

        assertThat(hub.deliver("job_events-42", frame)).isEqualTo(2);

        assertThat(a.frames).singleElement().isSameAs(frame);
        assertThat(b.frames).singleElement().isSameAs(frame);
        assertThat(other.frames).isEmpty();
    }

    @Test
    void delivering_to_a_group_without_members_reaches_nobody() {
        assertThat(hub.deliver("job_events-1", "{}")).isZero();
        assertThat(hub.hasMembers("job_events-1")).isFalse();
    }

    @Test
    void joining_twice_is_one_membership_and_leaving_the_last_member_drops_the_group() {
        Member a = new Member();

        assertThat(hub.join("jobs-summary", a)).isTrue();
        assertThat(hub.join("jobs-summary", a)).isFalse();
        assertThat(hub.subscribers("jobs-summary")).isEqualTo(1);
        assertThat(hub.leave("jobs-summary", a)).isTrue();
        assertThat(hub.leave("jobs-summary", a)).isFalse();

        assertThat(hub.hasMembers("jobs-summary")).isFalse();
        assertThat(hub.subscriptions()).isZero();
        assertThat(registry.get("hub.groups").gauge().value()).isZero();
    }

    @Test
    void gauges_count_subscriptions_per_group_name_and_unknown_names_as_other() {
        hub.join("job_events-1", new Member());
        hub.join("job_events-2", new Member());
        hub.join("jobs-summary", new Member());
        hub.join("whatever-9", new Member());

        assertThat(registry.get("hub.subscriptions")
                        .tag("group", "job_events")
                        .gauge()
                        .value())
                .isEqualTo(2);
        assertThat(registry.get("hub.subscriptions")
                        .tag("group", "jobs")
                        .gauge()
                        .value())
                .isEqualTo(1);
        assertThat(registry.get("hub.subscriptions")
                        .tag("group", "other")
                        .gauge()
                        .value())
                .isEqualTo(1);
        assertThat(registry.get("hub.groups").gauge().value()).isEqualTo(4);
        assertThat(hub.subscriptions()).isEqualTo(4);
    }

    @Test
    void members_over_capacity_are_counted_and_logged_as_channels_redis_does() {
        Member ok = new Member();
        Member full = new Member();
        full.full = true;
        hub.join("job_events-49", ok);
        hub.join("job_events-49", full);
        hub.join("job_events-49", new Member());

        hub.deliver("job_events-49", "{}");

        assertThat(ok.frames).hasSize(1);
        assertThat(logs.list)
                .extracting(ILoggingEvent::getFormattedMessage)
                .containsExactly("1 of 3 channels over capacity in group job_events-49");
        assertThat(logs.list.get(0).getLevel()).hasToString("INFO");
        assertThat(registry.get("ws.over.capacity")
                        .tag("group", "job_events")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void a_run_of_events_goes_to_each_member_whole_before_the_next_and_a_full_member_counts_once() {
        List<String> order = new ArrayList<>();
        GroupMember a = (group, frame) -> order.add("a " + frame);
        GroupMember b = (group, frame) -> order.add("b " + frame);
        Member full = new Member();
        full.full = true;
        hub.join("job_events-50", a);
        hub.join("job_events-50", full);
        hub.join("job_events-50", b);
        List<EventFrame> run = List.of(
                new EventFrame(50, 1, "e1", 1, 2),
                new EventFrame(50, 2, "e2", 1, 2),
                new EventFrame(50, 3, "e3", 1, 2));

        assertThat(hub.deliverEvents("job_events-50", run)).isEqualTo(3);

        assertThat(order).containsExactly("a e1", "a e2", "a e3", "b e1", "b e2", "b e3");
        assertThat(registry.get("ws.over.capacity")
                        .tag("group", "job_events")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    @Test
    void a_member_that_throws_does_not_cost_the_others_their_frame() {
        Member before = new Member();
        Member after = new Member();
        hub.join("jobs-status_changed", before);
        hub.join("jobs-status_changed", (group, frame) -> {
            throw new IllegalStateException("broken");
        });
        hub.join("jobs-status_changed", after);

        hub.deliver("jobs-status_changed", "{}");

        assertThat(before.frames).hasSize(1);
        assertThat(after.frames).hasSize(1);
    }

    @Test
    void concurrent_joins_and_leaves_during_deliveries_keep_counts_consistent() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch done = new CountDownLatch(4);
        List<Member> stayers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Member stayer = new Member();
            stayers.add(stayer);
            pool.execute(() -> {
                Member churn = new Member();
                hub.join("job_events-1", stayer);
                for (int i = 0; i < 5_000; i++) {
                    hub.join("job_events-1", churn);
                    hub.deliver("job_events-1", "{}");
                    hub.leave("job_events-1", churn);
                }
                done.countDown();
            });
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        pool.shutdown();

        assertThat(hub.subscribers("job_events-1")).isEqualTo(4);
        assertThat(hub.subscriptions()).isEqualTo(4);
        assertThat(registry.get("hub.subscriptions")
                        .tag("group", "job_events")
                        .gauge()
                        .value())
                .isEqualTo(4);
    }
}
