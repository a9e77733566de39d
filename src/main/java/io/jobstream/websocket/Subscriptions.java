package io.jobstream.websocket;

import io.jobstream.broadcast.EventMessages;
import io.jobstream.broadcast.GroupMember;
import io.jobstream.broadcast.Hub;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One connection's subscriptions: its groups in the {@link Hub}, and a {@link JobFeed} per {@code job_events-N} group,
 * started where the subscribe message says (a resume, the last stored counter, or what is stored when its reader
 * looks) and stopped when the group is left.
 *
 * <p>Threading: not thread-safe on its own; every method is called holding the {@link Subscriber}'s lock, the one
 * its feeds share ({@link JobFeed.Shared#lock}). Ownership: one per {@link Subscriber}, which calls {@link #leaveAll}
 * when it closes.
 */
final class Subscriptions {
    private final GroupMember member;
    private final JobFeed.Shared shared;
    private final Hub hub;
    private final Set<String> groups = new LinkedHashSet<>();
    private final Map<Long, JobFeed> feeds = new HashMap<>();

    /** @param member what joins the hub's groups (the subscriber); {@code shared} is what its feeds share */
    Subscriptions(GroupMember member, JobFeed.Shared shared) {
        this.member = member;
        this.shared = shared;
        this.hub = shared.hub();
    }

    /**
     * Replaces the groups with {@code wanted}: leaves the others, joins the new ones. {@code resume} (job id to the
     * last counter the client has) restarts those jobs' feeds after that counter, replayed from the store. A job in
     * {@code wanted} without a resume continues where it is, or, when new, starts after its counter in {@code starts}
     * (the last stored), or when that is unknown after the last event stored when its reader looks.
     */
    Subscriber.GroupChange replace(Set<String> wanted, Map<Long, Integer> resume, Map<Long, Integer> starts) {
        List<String> left = new ArrayList<>();
        for (String group : groups) {
            if (!wanted.contains(group)) {
                hub.leave(group, member);
                long job = EventMessages.jobOfEventsGroup(group);
                if (job > 0) stopFeed(feeds.remove(job));
                left.add(group);
            }
        }
        Map<Long, Integer> resumed = new LinkedHashMap<>();
        List<String> joined = new ArrayList<>();
        for (String group : wanted) {
            long job = EventMessages.jobOfEventsGroup(group);
            if (job > 0) {
                Integer last = resume.get(job);
                if (last != null) {
                    resumed.put(job, last);
                    startFeed(job, last + 1); // replaces a running one: the client said where it is
                } else if (!feeds.containsKey(job)) {
                    Integer stored = starts.get(job);
                    if (stored == null) {
                        startFeed(job, 0);
                    } else { // nothing to read: live from the next counter (a batch committed meanwhile is a gap)
                        JobFeed feed = new JobFeed(shared, job, stored + 1);
                        feed.startLive();
                        feeds.put(job, feed);
                    }
                }
            }
            if (!groups.contains(group)) {
                hub.join(group, member);
                joined.add(group);
            }
        }
        groups.clear();
        groups.addAll(wanted);
        return new Subscriber.GroupChange(List.copyOf(wanted), left, joined, resumed);
    }

    /** A feed that reads from {@code next} (0: after what is stored), replacing the job's old one. */
    private void startFeed(long job, int next) {
        JobFeed feed = new JobFeed(shared, job, next);
        stopFeed(feeds.put(job, feed));
        feed.start();
    }

    private static void stopFeed(JobFeed feed) {
        if (feed != null) feed.stop();
    }

    /** Leaves every group and stops every feed (the connection closes). */
    void leaveAll() {
        for (String group : groups) hub.leave(group, member);
        groups.clear();
        feeds.values().forEach(JobFeed::stop);
        feeds.clear();
    }

    /** The job's feed, or null when the job is not (or no longer) subscribed. */
    JobFeed feed(long job) {
        return feeds.get(job);
    }

    /** The outbox drained half: feeds that stopped reading for room go on. */
    void roomFreed() {
        for (JobFeed feed : feeds.values()) feed.roomFreed();
    }

    Set<Long> jobs() {
        return Set.copyOf(feeds.keySet());
    }

    Set<String> groups() {
        return Set.copyOf(groups);
    }

    /** The jobs whose feed reads from the store right now (behind, or starting). */
    List<Long> catchingUp() {
        List<Long> jobs = new ArrayList<>();
        feeds.forEach((job, feed) -> {
            if (feed.catchingUp()) jobs.add(job);
        });
        return jobs;
    }

    /** Per job: the next counter its feed will queue. */
    Map<Long, Integer> positions() {
        Map<Long, Integer> positions = new LinkedHashMap<>();
        feeds.forEach((job, feed) -> positions.put(job, feed.next()));
        return positions;
    }
}
