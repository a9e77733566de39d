package io.jobstream.broadcast;

import io.jobstream.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's subscriptions (group name, e.g. {@code job_events-42} or {@code jobs-summary}, to members) and the
 * local fan-out of one pre-serialised frame to every member of a group.
 *
 * <p>Threading: {@link #join} and {@link #leave} come from websocket threads, {@link #deliver} from the receiver
 * (or the job launcher); all may run at once. Each group maps to an immutable member array that join/leave replace
 * atomically, so a delivery iterates a snapshot without a lock: a member joining during a delivery may or may not get
 * that frame, and one that has left gets at most the frames of deliveries already under way. Deliveries never block,
 * because members only enqueue. Nothing here needs closing.
 *
 * <p>Members that report themselves over capacity are counted and logged with channels_redis's own line, so
 * operators can grep for it as the AWX debugging guide tells them to.
 */
public final class Hub {
    private static final Logger log = LoggerFactory.getLogger(Hub.class);

    /** Group names AWX's UI and consumers use (reference §4.3); any other name is tagged {@code other}. */
    private static final List<String> KNOWN_NAMES = List.of(
            "jobs",
            "job_events",
            "ad_hoc_command_events",
            "project_update_events",
            "inventory_update_events",
            "system_job_events",
            "workflow_events",
            "schedules",
            "inventories",
            "control");

    private static final String OTHER = "other";

    private final ConcurrentHashMap<String, GroupMember[]> groups = new ConcurrentHashMap<>();
    /** Subscriptions per group name, a fixed key set: per group would be one series per job. */
    private final Map<String, AtomicInteger> subscriptionsByName = new HashMap<>();

    private final Map<String, Counter> overCapacityByName = new HashMap<>();
    private final AtomicInteger subscriptions = new AtomicInteger();
    /** Set once at start (the websocket endpoint's recent frames); deliveries before that see none. */
    private volatile EventTap tap = EventTap.NONE;

    /** Told when a group gets its first member or loses its last (a cluster relay subscribes per watched job). */
    public interface Watchers {
        void changed(String group);
    }

    private volatile Watchers watchers = group -> {};

    public Hub(MeterRegistry registry) {
        for (String name : names()) {
            AtomicInteger count = new AtomicInteger();
            subscriptionsByName.put(name, count);
            Gauge.builder(Metrics.HUB_SUBSCRIPTIONS, count, AtomicInteger::get)
                    .tag("group", name)
                    .description("members of this node's groups with this name")
                    .register(registry);
            overCapacityByName.put(
                    name,
                    Counter.builder(Metrics.WS_OVER_CAPACITY)
                            .tag("group", name)
                            .description("times a subscriber's outbox overflowed (it then catches up from the store)")
                            .register(registry));
        }
        Gauge.builder(Metrics.HUB_GROUPS, groups, Map::size)
                .description("groups with at least one member")
                .register(registry);
    }

    /** Who sees the live event frames delivered to watched jobs' groups ({@link #deliverEvents}). */
    public void tap(EventTap tap) {
        this.tap = tap;
    }

    /** Who is told when a group gets its first member or loses its last; set once at start. */
    public void watchers(Watchers watchers) {
        this.watchers = watchers;
    }

    /** The groups with members now. */
    public Set<String> groupNames() {
        return Set.copyOf(groups.keySet());
    }

    /** Adds {@code member} to {@code group}; returns false when it was already a member. */
    public boolean join(String group, GroupMember member) {
        boolean[] joined = {false};
        boolean[] first = {false};
        groups.compute(group, (g, members) -> {
            if (members == null) {
                joined[0] = true;
                first[0] = true;
                return new GroupMember[] {member};
            }
            if (indexOf(members, member) >= 0) return members;
            joined[0] = true;
            GroupMember[] grown = Arrays.copyOf(members, members.length + 1);
            grown[members.length] = member;
            return grown;
        });
        if (joined[0]) counted(group, +1);
        if (first[0]) watchers.changed(group);
        return joined[0];
    }

    /** Removes {@code member} from {@code group}; returns false when it was not a member. */
    public boolean leave(String group, GroupMember member) {
        boolean[] left = {false};
        boolean[] last = {false};
        groups.computeIfPresent(group, (g, members) -> {
            int i = indexOf(members, member);
            if (i < 0) return members;
            left[0] = true;
            last[0] = members.length == 1;
            if (last[0]) return null; // drop empty groups, or job ids would pile up forever
            GroupMember[] shrunk = new GroupMember[members.length - 1];
            System.arraycopy(members, 0, shrunk, 0, i);
            System.arraycopy(members, i + 1, shrunk, i, members.length - i - 1);
            return shrunk;
        });
        if (left[0]) counted(group, -1);
        if (last[0]) watchers.changed(group);
        return left[0];
    }

    /**
     * Hands the same {@code frame} to every member of {@code group}, without blocking.
     *
     * @return how many members the group had
     */
    public int deliver(String group, String frame) {
        GroupMember[] members = groups.get(group);
        if (members == null) return 0;
        int over = 0;
        for (GroupMember member : members) {
            if (!offerSafely(member, group, frame, null)) over++;
        }
        if (over > 0) overCapacity(group, over, members.length);
        return members.length;
    }

    /**
     * Hands a job event's frame to every member of {@code group}, without blocking; members sequence it per job.
     *
     * @return how many members the group had
     */
    public int deliverEvent(String group, EventFrame frame) {
        return deliverEvents(group, List.of(frame));
    }

    /**
     * Hands a run of one job's event frames (in the batch's order) to every member of {@code group}, each member the
     * whole run before the next, without blocking. Delivered event by event across many members, a member's drain
     * could start after the first frame of a run and write the rest as another flush; this way its outbox usually
     * holds the run when the drain starts, and one flush carries it (issue 15). A member counts as over capacity once
     * per run.
     *
     * @return how many members the group had
     */
    public int deliverEvents(String group, List<EventFrame> frames) {
        GroupMember[] members = groups.get(group);
        if (members == null) return 0;
        int over = 0;
        for (GroupMember member : members) {
            boolean full = false;
            for (EventFrame frame : frames) {
                if (!offerSafely(member, group, null, frame)) full = true;
            }
            if (full) over++;
        }
        if (over > 0) overCapacity(group, over, members.length);
        try { // after the members: one that fell behind on this run has asked for it to be kept
            tap.delivered(frames);
        } catch (RuntimeException e) { // the members got their frames all the same
            log.warn("the event tap failed on {} frames of group {}", frames.size(), group, e);
        }
        return members.length;
    }

    /** Tells the members of the job's events group that they may have missed frames ({@link GroupMember#recheck}). */
    public void recheck(long jobId) {
        toJobMembers(jobId, "a recheck", (member, group) -> member.recheck(group, jobId));
    }

    /** Tells the members of the job's events group that its EOF committed with {@code finalCounter}. */
    public void jobEnded(long jobId, int finalCounter) {
        toJobMembers(jobId, "the job's end", (member, group) -> member.jobEnded(group, jobId, finalCounter));
    }

    private void toJobMembers(long jobId, String what, BiConsumer<GroupMember, String> notice) {
        String group = EventMessages.jobEventsGroup(jobId);
        GroupMember[] members = groups.get(group);
        if (members == null) return;
        for (GroupMember member : members) {
            try {
                notice.accept(member, group);
            } catch (RuntimeException e) { // one broken member must not cost the others the notice
                log.warn("a member of {} failed on {}", group, what, e);
            }
        }
    }

    /** Logs and counts {@code over} members of {@code group} that found their outbox full outside a delivery. */
    public void overCapacity(String group, int over) {
        overCapacity(group, over, Math.max(over, subscribers(group)));
    }

    private void overCapacity(String group, int over, int members) {
        // channels_redis's wording (reference §6), so existing runbooks and greps still work
        log.info("{} of {} channels over capacity in group {}", over, members, group);
        overCapacityByName.get(nameOf(group)).increment(over);
    }

    public boolean hasMembers(String group) {
        return groups.containsKey(group);
    }

    public int subscribers(String group) {
        GroupMember[] members = groups.get(group);
        return members == null ? 0 : members.length;
    }

    /** Memberships summed over all groups. */
    public int subscriptions() {
        return subscriptions.get();
    }

    private static boolean offerSafely(GroupMember member, String group, String frame, EventFrame event) {
        try {
            return event == null ? member.offer(group, frame) : member.offerEvent(group, event);
        } catch (RuntimeException e) {
            // one broken member must not cost the others their frame
            log.warn("member {} failed to take a frame of group {}", member, group, e);
            return true;
        }
    }

    private void counted(String group, int delta) {
        subscriptions.addAndGet(delta);
        subscriptionsByName.get(nameOf(group)).addAndGet(delta);
    }

    private static String nameOf(String group) {
        int dash = group.indexOf('-');
        String name = dash < 0 ? group : group.substring(0, dash);
        return KNOWN_NAMES.contains(name) ? name : OTHER;
    }

    private static List<String> names() {
        List<String> names = new ArrayList<>(KNOWN_NAMES);
        names.add(OTHER);
        return names;
    }

    private static int indexOf(GroupMember[] members, GroupMember member) {
        for (int i = 0; i < members.length; i++) {
            if (members[i] == member) return i;
        }
        return -1;
    }
}
