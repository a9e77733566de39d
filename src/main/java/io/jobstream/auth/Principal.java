package io.jobstream.auth;

import io.jobstream.event.CaptureLevel;

/**
 * Who made a request, once authenticated. A user ({@code via} session, token or Basic) acts with that user's rights;
 * an ingest token may only write events, for one job or (an emitter token) for every job, and has no user when the
 * node issued it itself (a launched job's plugin, the demo replay).
 *
 * @param userId    the user, or 0 for a node-issued ingest token
 * @param ingestJob for {@link Via#INGEST_TOKEN}: the one job it may write, or null for every job
 * @param tokenId   the token that proved it ({@link Via#TOKEN}, {@link Via#INGEST_TOKEN}), else null
 * @param tokenOwnerAdmin for {@link Via#INGEST_TOKEN}: whether the token's user is a superuser at this request (read
 *                  with the token, each request), so that a token's power follows its owner's current rights; the
 *                  token itself never gets {@code superuser}, which would open admin routes
 * @param capture   for {@link Via#INGEST_TOKEN}: the level the token's events are taken at (null = full)
 */
public record Principal(
        long userId,
        String username,
        boolean superuser,
        Via via,
        Long ingestJob,
        Long tokenId,
        boolean tokenOwnerAdmin,
        CaptureLevel capture) {
    public enum Via {
        SESSION,
        TOKEN,
        BASIC,
        INGEST_TOKEN
    }

    public Principal(long userId, String username, boolean superuser, Via via, Long ingestJob, Long tokenId) {
        this(userId, username, superuser, via, ingestJob, tokenId, false);
    }

    public Principal(
            long userId,
            String username,
            boolean superuser,
            Via via,
            Long ingestJob,
            Long tokenId,
            boolean tokenOwnerAdmin) {
        this(userId, username, superuser, via, ingestJob, tokenId, tokenOwnerAdmin, null);
    }

    /** The level this credential's events are taken at: its token's, else {@code full}. */
    public CaptureLevel captureLevel() {
        return capture == null ? CaptureLevel.FULL : capture;
    }

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

    /** An ingest token the node issued to itself (a launched job's plugin, the demo): it has no user. */
    public boolean nodeIssued() {
        return via == Via.INGEST_TOKEN && userId == 0;
    }

    /**
     * A trusted writer, who may create jobs at ids it chooses (AWX-style emitters number their own jobs): an admin, an
     * emitter token (every job) the node issued or whose user is an admin now, or a job's ingest token whose user is
     * an admin now. Trusted writers still never write into a job a non-admin user owns ({@link JobAccess}).
     */
    public boolean trustedWriter() {
        if (isUser()) return superuser;
        return ingestJob == null ? nodeIssued() || tokenOwnerAdmin : tokenOwnerAdmin;
    }
}
