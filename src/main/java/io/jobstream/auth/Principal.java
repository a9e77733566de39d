package io.jobstream.auth;

/**
 * Who made a request, once authenticated. A user ({@code via} session, token or Basic) acts with that user's rights;
 * an ingest token may only write events, for one job or (an emitter token) for every job, and has no user when the
 * node issued it itself (a launched job's plugin, the demo replay).
 *
 * @param userId    the user, or 0 for a node-issued ingest token
 * @param ingestJob for {@link Via#INGEST_TOKEN}: the one job it may write, or null for every job
 * @param tokenId   the token that proved it ({@link Via#TOKEN}, {@link Via#INGEST_TOKEN}), else null
 */
public record Principal(long userId, String username, boolean superuser, Via via, Long ingestJob, Long tokenId) {
    public enum Via { SESSION, TOKEN, BASIC, INGEST_TOKEN }

    public static Principal user(User user, Via via) {
        return new Principal(user.id(), user.username(), user.superuser(), via, null, null);
    }

    /**
     * Who the ingest rate limit counts against: the token (each emitter has its own), else the user; never a
     * secret, since it is only a map key.
     */
    public String rateKey() {
        return tokenId != null ? "token:" + tokenId : "user:" + userId;
    }

    /** A person (or their API token), as opposed to an ingest-only token. */
    public boolean isUser() {
        return via != Via.INGEST_TOKEN;
    }

    /** Whether events of any job may be written without looking at the job: admins and emitter tokens. */
    public boolean mayIngestEveryJob() {
        return (isUser() && superuser) || (via == Via.INGEST_TOKEN && ingestJob == null);
    }
}
