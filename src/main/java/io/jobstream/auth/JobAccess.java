package io.jobstream.auth;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Who may see and write which job: the one rule for every path that writes events (HTTP ingest, the Redis
 * {@code callback_tasks} consumer, token creation, replay).
 *
 * <p>See: admins every job; other users the jobs they own and the jobs shared with a team they are in.
 *
 * <p>Write: a job's owner is fixed by who really created it. Users who are not admins write only the jobs they own,
 * which the node allocated for them (a launch, or an ingest token made without a job); they cannot create a job by
 * choosing its id, so no one can squat an id that an admin, an emitter or a replay will write later. Trusted writers
 * ({@link Principal#trustedWriter}: admins, emitter tokens of admins or of the node, AWX-style {@code callback_tasks}
 * producers) may create jobs at the ids they choose, as AWX's emitters number their own jobs; they write jobs without
 * owner, jobs owned by an admin and jobs they own, and never a job owned by a user who is not an admin. A launched
 * job's own (node-issued) token writes that job. Rights are read at each check, never remembered: a token made by an
 * admin loses its reach the moment its user stops being one. Sharing gives sight, not the right to write.
 *
 * <p>Thread-safe; each check is one or two store queries (three when a trusted writer creates jobs).
 */
public final class JobAccess {
    /** Job ids per event partition; the same as {@code postgres.Partitions.JOBS_PER_PARTITION}. */
    public static final long JOBS_PER_PARTITION = 1000;
    /** Job ids are 32-bit, as AWX's (Django's AutoField) are. */
    public static final long MAX_JOB_ID = Integer.MAX_VALUE;

    /** The refusal tag of a check the store could not answer: retry later (503), the request is not judged. */
    public static final String UNAVAILABLE = "unavailable";

    /** Why a job's events may not be written: {@code tag} for the metric, {@code reason} for the emitter. */
    public record Refusal(String tag, String reason) {}

    /** A verdict per job id of a request. */
    public record Writes(Set<Long> allowed, Map<Long, Refusal> refused) {}

    private final AuthStore store;
    private final Authenticator authenticator;
    private final PartitionBudget partitions;
    private final RecentWrites recent;
    /**
     * Verdicts "may write" of the last {@link #FRESH}: an emitter sends many requests for the same jobs, and a job's
     * owner never changes, so the store is asked once per writer, job and period instead of per request (which also
     * keeps a dead database's connection timeout off every request of a cluster emitter). What can withdraw such a
     * verdict — an owner's admin flag, a deleted user — is an access change: this node forgets them all at once
     * ({@link #forgetWrites}), other nodes within the period, as their open websockets notice access changes.
     */
    private final RecentWrites fresh;

    static final Duration FRESH = Duration.ofSeconds(30);

    /**
     * @param authenticator counts denials ({@code auth_failures_total{reason="forbidden"}})
     * @param partitions    how many new event partitions trusted writers may start per minute
     * @param outageMemory  how long a writer's jobs stay writable for it while the database is down
     *                      ({@code auth.basic-cache}, as for credentials)
     */
    public JobAccess(AuthStore store, Authenticator authenticator, PartitionBudget partitions, Duration outageMemory) {
        this.store = store;
        this.authenticator = authenticator;
        this.partitions = partitions;
        this.recent = new RecentWrites(outageMemory, System::nanoTime);
        this.fresh = new RecentWrites(outageMemory.isZero() ? Duration.ZERO : FRESH, System::nanoTime);
    }

    /** Access changed on this node (a user's admin flag, a deletion): every remembered verdict is asked again. */
    public void forgetWrites() {
        fresh.clear();
    }

    /** No limit on new partitions: for tests of the read side, which create no jobs. */
    public JobAccess(AuthStore store, Authenticator authenticator) {
        this(store, authenticator, new PartitionBudget(0, new SimpleMeterRegistry(), System::nanoTime), Duration.ZERO);
    }

    public boolean mayView(Principal p, long jobId) {
        return counted(p.isUser() && (p.superuser() || store.mayView(p.userId(), jobId)));
    }

    /** For the websocket, which knows the user's id only; admins are recognised by the store. */
    public boolean mayView(long userId, long jobId) {
        return counted(store.mayView(userId, jobId));
    }

    /**
     * For the websocket: which of these jobs the user may watch, in one store query (a subscribe message may name
     * 100 jobs). Each job refused counts as a denial, as it would one by one.
     */
    public Set<Long> mayView(long userId, Collection<Long> jobIds) {
        if (jobIds.isEmpty()) return Set.of();
        Set<Long> visible = store.visibleOf(userId, jobIds);
        for (Long job : new HashSet<>(jobIds)) if (!visible.contains(job)) counted(false);
        return visible;
    }

    /** As {@link #mayView(long, Collection)} without counting denials: for what the node filters on its own. */
    public Set<Long> visibleOf(long userId, Collection<Long> jobIds) {
        return jobIds.isEmpty() ? Set.of() : store.visibleOf(userId, jobIds);
    }

    private boolean counted(boolean allowed) {
        if (!allowed) authenticator.failed("forbidden");
        return allowed;
    }

    /** The user whose jobs a list shows, or null when every job is visible (admins). */
    public Long listFilter(Principal p) {
        return p.superuser() ? null : p.userId();
    }

    public static boolean validJobId(long id) {
        return id >= 1 && id <= MAX_JOB_ID;
    }

    /** Which of these jobs the principal may write events for (see the class note). */
    public Set<Long> writable(Principal p, Collection<Long> jobIds) {
        return writes(p, jobIds).allowed();
    }

    /** The verdict for each of these jobs; trusted writers create the jobs that do not exist yet (without owner). */
    public Writes writes(Principal p, Collection<Long> jobIds) {
        Map<Long, Refusal> refused = new TreeMap<>();
        List<Long> ids = new ArrayList<>();
        for (long id : new TreeSet<>(jobIds)) {
            if (!validJobId(id))
                refused.put(id, new Refusal("bad_job_id", "job id " + id + " is not in 1.." + MAX_JOB_ID));
            else if (p.ingestJob() != null && id != p.ingestJob()) refused.put(id, notAllowed(id, ""));
            else ids.add(id);
        }
        if (ids.isEmpty()) return new Writes(Set.of(), refused);
        // a launched job's own token: the node made the job for it
        if (p.ingestJob() != null && p.nodeIssued()) return new Writes(Set.of(p.ingestJob()), refused);
        if (!p.isUser() && p.ingestJob() == null && !p.trustedWriter()) {
            for (long id : ids) refused.put(id, notAllowed(id, ": this emitter token's user is no longer an admin"));
            return new Writes(Set.of(), refused);
        }
        Long creator = p.nodeIssued() ? null : p.userId();
        String writer = (p.trustedWriter() ? "trusted:" : "user:") + creator;
        return asked(
                writer,
                ids,
                refused,
                () -> p.trustedWriter() ? trusted(creator, ids, refused) : owned(p.userId(), ids, refused));
    }

    /**
     * The store's verdict; while the store cannot be asked, the jobs this writer wrote within the last period, and
     * for the others a refusal tagged {@code unavailable} (answer 503: the emitter retries, nothing is lost).
     */
    private Writes asked(String writer, List<Long> ids, Map<Long, Refusal> refused, Supplier<Set<Long>> verdict) {
        if (fresh.wroteAll(writer, ids)) return new Writes(new TreeSet<>(ids), refused);
        if (!recent.storeDown()) {
            try {
                Set<Long> allowed = verdict.get();
                recent.remember(writer, allowed);
                fresh.remember(writer, allowed);
                return new Writes(allowed, refused);
            } catch (IllegalStateException storeFailed) {
                recent.storeFailed();
            }
        }
        if (recent.wroteAll(writer, ids)) return new Writes(new TreeSet<>(ids), refused);
        for (long id : ids) {
            refused.put(
                    id,
                    new Refusal(
                            UNAVAILABLE,
                            "cannot check who may write job " + id + " right now (database unreachable); retry"));
        }
        return new Writes(Set.of(), refused);
    }

    /** AWX-style emitters pushing onto {@code callback_tasks} (cluster mode): trusted, with no user. */
    public Writes emitterWrites(Collection<Long> jobIds) {
        Map<Long, Refusal> refused = new TreeMap<>();
        List<Long> ids = new ArrayList<>();
        for (long id : new TreeSet<>(jobIds)) {
            if (validJobId(id)) ids.add(id);
            else refused.put(id, new Refusal("bad_job_id", "job id " + id + " is not in 1.." + MAX_JOB_ID));
        }
        return ids.isEmpty()
                ? new Writes(Set.of(), refused)
                : asked("trusted:null", ids, refused, () -> trusted(null, ids, refused));
    }

    /** A user who is not an admin: the jobs they own; ids that do not exist are not created. */
    private Set<Long> owned(long userId, List<Long> ids, Map<Long, Refusal> refused) {
        Map<Long, JobOwner> owners = store.jobOwners(ids);
        Set<Long> allowed = new TreeSet<>();
        for (long id : ids) {
            JobOwner o = owners.get(id);
            if (o == null) {
                refused.put(
                        id,
                        new Refusal(
                                "no_such_job",
                                "job " + id + " does not exist: jobs are made by the node"
                                        + " (launch one, or create an ingest token without \"job\" to get a fresh job id)"));
            } else if (o.ownerId() != null && o.ownerId() == userId) {
                allowed.add(id);
            } else {
                refused.put(id, notAllowed(id, ""));
            }
        }
        return allowed;
    }

    /** A trusted writer ({@code creator}: its user, null for the node or an AWX emitter): see the class note. */
    private Set<Long> trusted(Long creator, List<Long> ids, Map<Long, Refusal> refused) {
        Map<Long, JobOwner> owners = new HashMap<>(store.jobOwners(ids));
        List<Long> missing = ids.stream().filter(id -> !owners.containsKey(id)).toList();
        if (!missing.isEmpty()) {
            List<Long> admitted = withinPartitionBudget(missing, refused);
            if (!admitted.isEmpty()) {
                Set<Long> created = store.createJobs(admitted);
                for (long id : created) owners.put(id, new JobOwner(null, false));
                List<Long> raced =
                        admitted.stream().filter(id -> !created.contains(id)).toList();
                if (!raced.isEmpty()) owners.putAll(store.jobOwners(raced)); // another writer made them meanwhile
            }
        }
        Set<Long> allowed = new TreeSet<>();
        for (long id : ids) {
            if (refused.containsKey(id)) continue;
            JobOwner o = owners.get(id);
            if (o != null
                    && (o.ownerId() == null || o.ownerSuperuser() || o.ownerId().equals(creator))) allowed.add(id);
            else refused.put(id, notAllowed(id, ": it belongs to a user (only its owner writes it)"));
        }
        return allowed;
    }

    /** The missing ids whose jobs may be created: those in blocks that have a partition, or whose new one is admitted. */
    private List<Long> withinPartitionBudget(List<Long> missing, Map<Long, Refusal> refused) {
        Map<Long, List<Long>> byBlock = new TreeMap<>();
        for (long id : missing)
            byBlock.computeIfAbsent(id / JOBS_PER_PARTITION, b -> new ArrayList<>())
                    .add(id);
        Set<Long> fresh = store.blocksWithoutPartition(byBlock.keySet());
        List<Long> admitted = new ArrayList<>();
        for (Map.Entry<Long, List<Long>> e : byBlock.entrySet()) {
            if (!fresh.contains(e.getKey()) || partitions.admit()) {
                admitted.addAll(e.getValue());
                continue;
            }
            for (long id : e.getValue()) {
                refused.put(
                        id,
                        new Refusal(
                                "partition_limit",
                                "job " + id + " would need a new event partition and"
                                        + " this node starts at most " + partitions.perMinute()
                                        + " a minute (ingest.max-new-partitions);"
                                        + " retry later, or number jobs closer together"));
            }
        }
        return admitted;
    }

    private static Refusal notAllowed(long id, String why) {
        return new Refusal("forbidden", "not allowed to write events of job " + id + why);
    }
}
