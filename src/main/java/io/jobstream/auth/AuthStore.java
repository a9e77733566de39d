package io.jobstream.auth;

import io.jobstream.event.CaptureLevel;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Where users, teams, sessions, tokens and job visibility are kept (PostgreSQL: {@code postgres.PostgresAuthStore}),
 * so that every node of a cluster sees the same ones. Implementations are thread-safe; methods throw
 * {@link IllegalStateException} when the store fails.
 */
public interface AuthStore {
    Optional<User> userByName(String username);

    Optional<User> userById(long id);

    /** Creates a user; empty when the name is taken. */
    Optional<User> createUser(String username, String passwordHash, boolean superuser);

    /**
     * Creates the first user, a superuser, only if there is no user yet; empty when there already was one (or another
     * node created it at the same moment). Several nodes may call this at once.
     */
    Optional<User> createFirstAdmin(String username, String passwordHash);

    /** The superuser named {@code admin}, else the oldest superuser. */
    Optional<User> firstSuperuser();

    /** Users by id. */
    default List<User> users(long offset, int limit) {
        return users(ListQuery.ALL, offset, limit);
    }

    /** The users the query keeps, in its order. */
    List<User> users(ListQuery query, long offset, int limit);

    long userCount();

    long userCount(ListQuery query);

    /** Sets the password hash and ends the user's sessions. */
    void setPassword(long userId, String passwordHash);

    void setSuperuser(long userId, boolean superuser);

    /**
     * Stores a session, then ends the user's oldest sessions beyond the newest {@code keepNewest} (so one user cannot
     * grow the table without bound by logging in again and again) and every expired one.
     *
     * @return how many of the user's sessions were ended for being over {@code keepNewest}
     */
    int createSession(byte[] keyHash, long userId, Instant expires, int keepNewest);

    /** The session's user, when the session exists and has not expired at {@code now}. */
    Optional<User> sessionUser(byte[] keyHash, Instant now);

    void deleteSession(byte[] keyHash);

    /** @param userId null for a node-issued token; @param expires null for never */
    default long createToken(
            byte[] tokenHash, Long userId, String kind, Long jobId, String description, Instant expires) {
        return createToken(tokenHash, userId, kind, jobId, description, expires, null);
    }

    /** @param capture for an ingest token: the level its events are taken at; null = full */
    long createToken(
            byte[] tokenHash,
            Long userId,
            String kind,
            Long jobId,
            String description,
            Instant expires,
            CaptureLevel capture);

    /** The token, when it exists and has not expired at {@code now}. */
    Optional<Token> token(byte[] tokenHash, Instant now);

    List<Token> tokensOf(long userId);

    /** Deletes token {@code id}, only if it belongs to {@code userId} (null: any owner). */
    boolean deleteToken(long id, Long userId);

    /** Deletes the node-issued ingest tokens of a job (its run is over). */
    void deleteJobTokens(long jobId);

    Optional<Team> createTeam(String name);

    Optional<Team> team(long id);

    /** Teams by id; only those {@code memberId} belongs to, unless null. */
    default List<Team> teams(Long memberId, long offset, int limit) {
        return teams(memberId, ListQuery.ALL, offset, limit);
    }

    /** The teams the query keeps, in its order; only those {@code memberId} belongs to, unless null. */
    List<Team> teams(Long memberId, ListQuery query, long offset, int limit);

    default long teamCount(Long memberId) {
        return teamCount(memberId, ListQuery.ALL);
    }

    long teamCount(Long memberId, ListQuery query);

    /** Renames a team; false when there is no such team, or the name is another team's (nothing changed then). */
    boolean renameTeam(long teamId, String name);

    boolean addMember(long teamId, long userId);

    boolean removeMember(long teamId, long userId);

    /** Deletes a user with their sessions, tokens and team memberships; their jobs lose their owner (admins only). */
    boolean deleteUser(long userId);

    /** Deletes a team with its memberships and job shares. */
    boolean deleteTeam(long teamId);

    boolean isMember(long teamId, long userId);

    List<User> members(long teamId);

    /** Whether the user is a superuser, or the job exists and the user owns it or is in a team it is shared with. */
    boolean mayView(long userId, long jobId);

    /** The owners of those of {@code jobIds} that exist (absent from the answer: no such job). */
    Map<Long, JobOwner> jobOwners(Collection<Long> jobIds);

    /** {@link #mayView(long, long)} for several jobs in one query: the subset of {@code jobIds} the user may see. */
    Set<Long> visibleOf(long userId, Collection<Long> jobIds);

    /**
     * For trusted writers only ({@link JobAccess}): creates rows (status {@code new}, no owner) for those of
     * {@code jobIds} that do not exist; answers the ids it created (not those another writer created first).
     */
    Set<Long> createJobs(Collection<Long> jobIds);

    /** Of these blocks of job ids (id / {@link JobAccess#JOBS_PER_PARTITION}), those with no event partition yet. */
    Set<Long> blocksWithoutPartition(Collection<Long> blocks);

    /**
     * A fresh job (status {@code new}, id from the server's sequence) owned by the user, unless the user already owns
     * {@code maxIdle} or more jobs in status {@code new} without events; empty then.
     */
    OptionalLong allocateJob(long ownerId, int maxIdle);

    /** How many tokens the user has. */
    long tokenCount(long userId);

    boolean jobExists(long jobId);

    /** Shares the job with the team; false when either does not exist. */
    boolean shareJob(long jobId, long teamId);

    boolean unshareJob(long jobId, long teamId);

    List<Team> jobTeams(long jobId);
}
