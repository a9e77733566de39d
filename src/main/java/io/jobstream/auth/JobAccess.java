package io.jobstream.auth;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Who may see and write which job. See: admins every job; other users the jobs they own (launched, or created by
 * their first ingested event) and the jobs shared with a team they are in. Write events: admins and emitter tokens
 * every job, a job's ingest token that job, other users the jobs they own and new job ids (which they then own).
 * Sharing gives sight, not the right to write. Thread-safe; each check is one store query (none for admins).
 */
public final class JobAccess {
    private final AuthStore store;
    private final Authenticator authenticator;

    /** @param authenticator counts denials ({@code auth_failures_total{reason="forbidden"}}) */
    public JobAccess(AuthStore store, Authenticator authenticator) {
        this.store = store;
        this.authenticator = authenticator;
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

    private boolean counted(boolean allowed) {
        if (!allowed) authenticator.failed("forbidden");
        return allowed;
    }

    /** The user whose jobs a list shows, or null when every job is visible (admins). */
    public Long listFilter(Principal p) {
        return p.superuser() ? null : p.userId();
    }

    /** Which of these jobs the principal may write events for; may create the new ones, owned by the user. */
    public Set<Long> writable(Principal p, Collection<Long> jobIds) {
        if (p.mayIngestEveryJob()) return new HashSet<>(jobIds);
        if (!p.isUser()) {
            Set<Long> one = new HashSet<>();
            if (p.ingestJob() != null && jobIds.contains(p.ingestJob())) one.add(p.ingestJob());
            return one;
        }
        return store.claimOrOwned(p.userId(), jobIds);
    }
}
