package io.jobstream.postgres;

import static io.jobstream.postgres.Statements.first;
import static io.jobstream.postgres.Statements.instant;

import io.jobstream.auth.AuthStore;
import io.jobstream.auth.JobOwner;
import io.jobstream.auth.ListQuery;
import io.jobstream.auth.Team;
import io.jobstream.auth.Token;
import io.jobstream.auth.User;
import io.jobstream.event.CaptureLevel;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The {@link AuthStore} in PostgreSQL (schema V3__auth.sql): users, sessions, job ownership and visibility here;
 * teams and job shares in {@link PostgresTeams}, tokens in {@link PostgresTokens}, to which it delegates. Each call
 * is one short statement (or transaction) on a pooled connection ({@link Statements}); which jobs a user sees is
 * {@link JobVisibility}'s rule, shared with the REST job list. Thread-safe.
 */
public final class PostgresAuthStore implements AuthStore {
    static final String USER_COLUMNS = "u.id, u.username, u.is_superuser, u.password, u.created";

    private final Statements sql;
    private final JobVisibility visibility;
    private final PostgresTeams teams;
    private final PostgresTokens tokens;

    public PostgresAuthStore(DataSource dataSource) {
        this.sql = new Statements(dataSource);
        this.visibility = new JobVisibility(sql);
        this.teams = new PostgresTeams(sql);
        this.tokens = new PostgresTokens(sql);
    }

    private <T> T with(String what, Statements.Work<T> work) {
        return sql.with(what, work);
    }

    private <T> List<T> query(String what, String statement, Statements.RowMapper<T> mapper, Object... args) {
        return sql.query(what, statement, mapper, args);
    }

    private int update(String what, String statement, Object... args) {
        return sql.update(what, statement, args);
    }

    static User user(ResultSet rs) throws SQLException {
        return new User(
                rs.getLong("id"),
                rs.getString("username"),
                rs.getBoolean("is_superuser"),
                rs.getString("password"),
                instant(rs, "created"));
    }

    @Override
    public Optional<User> userByName(String username) {
        return first(query(
                "reading user",
                "SELECT " + USER_COLUMNS + " FROM auth_user u WHERE u.username = ?",
                PostgresAuthStore::user,
                username));
    }

    @Override
    public Optional<User> userById(long id) {
        return first(query(
                "reading user",
                "SELECT " + USER_COLUMNS + " FROM auth_user u WHERE u.id = ?",
                PostgresAuthStore::user,
                id));
    }

    @Override
    public Optional<User> createUser(String username, String passwordHash, boolean superuser) {
        return first(query(
                "creating user",
                "INSERT INTO auth_user AS u (username, password, is_superuser)"
                        + " VALUES (?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING " + USER_COLUMNS,
                PostgresAuthStore::user,
                username,
                passwordHash,
                superuser));
    }

    @Override
    public Optional<User> createFirstAdmin(String username, String passwordHash) {
        // The advisory lock makes "no user yet" and the insert one step when several nodes start at once;
        // ON CONFLICT covers the same name created by another path.
        return with("creating the first admin", c -> {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(7007)")) {
                    lock.execute();
                }
                List<User> created = new ArrayList<>();
                try (PreparedStatement ps = Statements.bind(
                                c.prepareStatement("INSERT INTO auth_user AS u"
                                        + " (username, password, is_superuser) SELECT ?, ?, true"
                                        + " WHERE NOT EXISTS (SELECT 1 FROM auth_user)"
                                        + " ON CONFLICT (username) DO NOTHING RETURNING " + USER_COLUMNS),
                                username,
                                passwordHash);
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) created.add(user(rs));
                }
                c.commit();
                return first(created);
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    @Override
    public Optional<User> firstSuperuser() {
        return first(query(
                "reading users",
                "SELECT " + USER_COLUMNS + " FROM auth_user u WHERE u.is_superuser"
                        + " ORDER BY (u.username = 'admin') DESC, u.id LIMIT 1",
                PostgresAuthStore::user));
    }

    @Override
    public List<User> users(ListQuery q, long offset, int limit) {
        List<Object> args = new ArrayList<>();
        String where = ListFilters.where(q, "u.id", "u.username", "u.is_superuser", args);
        args.add(limit);
        args.add(offset);
        return query(
                "listing users",
                "SELECT " + USER_COLUMNS + " FROM auth_user u" + where + ListFilters.orderBy(q, "u.id", "u.username")
                        + " LIMIT ? OFFSET ?",
                PostgresAuthStore::user,
                args.toArray());
    }

    @Override
    public long userCount() {
        return userCount(ListQuery.ALL);
    }

    @Override
    public long userCount(ListQuery q) {
        List<Object> args = new ArrayList<>();
        String where = ListFilters.where(q, "u.id", "u.username", "u.is_superuser", args);
        return query("counting users", "SELECT count(*) FROM auth_user u" + where, rs -> rs.getLong(1), args.toArray())
                .get(0);
    }

    @Override
    public void setPassword(long userId, String passwordHash) {
        update(
                "setting a password",
                "UPDATE auth_user SET password = ?, modified = now() WHERE id = ?",
                passwordHash,
                userId);
        // a new password ends the user's sessions, as Django's update_session_auth_hash does for other sessions
        update("ending sessions", "DELETE FROM auth_session WHERE user_id = ?", userId);
    }

    @Override
    public void setSuperuser(long userId, boolean superuser) {
        update(
                "updating a user",
                "UPDATE auth_user SET is_superuser = ?, modified = now() WHERE id = ?",
                superuser,
                userId);
    }

    @Override
    public int createSession(byte[] keyHash, long userId, Instant expires, int keepNewest) {
        update(
                "creating a session",
                "INSERT INTO auth_session (key_hash, user_id, expires) VALUES (?, ?, ?)",
                keyHash,
                userId,
                expires);
        // every session lasts as long, so the latest expiry is the newest login; ties (same microsecond) by key
        int ended = update(
                "ending sessions over the user's limit",
                "DELETE FROM auth_session WHERE key_hash IN (SELECT key_hash FROM auth_session WHERE user_id = ?"
                        + " ORDER BY expires DESC, created DESC, key_hash OFFSET ?)",
                userId,
                keepNewest);
        // expired sessions go when new ones come: no sweeper thread needed, and the index keeps it cheap
        update("deleting expired sessions", "DELETE FROM auth_session WHERE expires < now()");
        return ended;
    }

    @Override
    public Optional<User> sessionUser(byte[] keyHash, Instant now) {
        return first(query(
                "reading a session",
                "SELECT " + USER_COLUMNS + " FROM auth_session s JOIN auth_user u"
                        + " ON u.id = s.user_id WHERE s.key_hash = ? AND s.expires > ?",
                PostgresAuthStore::user,
                keyHash,
                now));
    }

    @Override
    public void deleteSession(byte[] keyHash) {
        update("deleting a session", "DELETE FROM auth_session WHERE key_hash = ?", (Object) keyHash);
    }

    @Override
    public long createToken(
            byte[] tokenHash,
            Long userId,
            String kind,
            Long jobId,
            String description,
            Instant expires,
            CaptureLevel capture) {
        return tokens.createToken(tokenHash, userId, kind, jobId, description, expires, capture);
    }

    @Override
    public Optional<Token> token(byte[] tokenHash, Instant now) {
        return tokens.token(tokenHash, now);
    }

    @Override
    public List<Token> tokensOf(long userId) {
        return tokens.tokensOf(userId);
    }

    @Override
    public boolean deleteToken(long id, Long userId) {
        return tokens.deleteToken(id, userId);
    }

    @Override
    public void deleteJobTokens(long jobId) {
        tokens.deleteJobTokens(jobId);
    }

    @Override
    public Optional<Team> createTeam(String name) {
        return teams.createTeam(name);
    }

    @Override
    public Optional<Team> team(long id) {
        return teams.team(id);
    }

    @Override
    public List<Team> teams(Long memberId, ListQuery query, long offset, int limit) {
        return teams.teams(memberId, query, offset, limit);
    }

    @Override
    public boolean renameTeam(long teamId, String name) {
        return teams.renameTeam(teamId, name);
    }

    @Override
    public long teamCount(Long memberId, ListQuery query) {
        return teams.teamCount(memberId, query);
    }

    @Override
    public boolean addMember(long teamId, long userId) {
        return teams.addMember(teamId, userId);
    }

    @Override
    public boolean removeMember(long teamId, long userId) {
        return teams.removeMember(teamId, userId);
    }

    @Override
    public boolean deleteUser(long userId) {
        // sessions, tokens and memberships go by ON DELETE CASCADE, job.owner_id by SET NULL
        return update("deleting a user", "DELETE FROM auth_user WHERE id = ?", userId) > 0;
    }

    @Override
    public boolean deleteTeam(long teamId) {
        return teams.deleteTeam(teamId);
    }

    @Override
    public boolean isMember(long teamId, long userId) {
        return teams.isMember(teamId, userId);
    }

    @Override
    public List<User> members(long teamId) {
        return teams.members(teamId);
    }

    @Override
    public boolean mayView(long userId, long jobId) {
        return visibility.mayView(userId, jobId);
    }

    @Override
    public Set<Long> visibleOf(long userId, Collection<Long> jobIds) {
        return visibility.visibleOf(userId, jobIds);
    }

    @Override
    public Map<Long, JobOwner> jobOwners(Collection<Long> jobIds) {
        return with("reading job owners", c -> {
            Map<Long, JobOwner> owners = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT j.id, j.owner_id, coalesce(u.is_superuser, false)"
                    + " FROM job j LEFT JOIN auth_user u ON u.id = j.owner_id WHERE j.id = ANY(?)")) {
                ps.setArray(1, c.createArrayOf("bigint", jobIds.toArray(Long[]::new)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long owner = rs.getLong(2);
                        Long ownerId = rs.wasNull() ? null : owner; // wasNull speaks of the last column read
                        owners.put(rs.getLong(1), new JobOwner(ownerId, rs.getBoolean(3)));
                    }
                }
            }
            return owners;
        });
    }

    @Override
    public Set<Long> createJobs(Collection<Long> jobIds) {
        return sql.ids(
                "creating jobs",
                "INSERT INTO job (id, name, status) SELECT x, 'job ' || x, 'new'"
                        + " FROM unnest(?::bigint[]) x ON CONFLICT (id) DO NOTHING RETURNING id",
                jobIds);
    }

    @Override
    public Set<Long> blocksWithoutPartition(Collection<Long> blocks) {
        // to_regclass answers null for a table that does not exist, without an error to roll back
        return sql.ids(
                "reading partitions",
                "SELECT b FROM unnest(?::bigint[]) b WHERE to_regclass('" + Partitions.PREFIX + "' || b) IS NULL",
                blocks);
    }

    @Override
    public OptionalLong allocateJob(long ownerId, int maxIdle) {
        return with("allocating a job", c -> {
            c.setAutoCommit(false);
            try {
                // one allocation per user at a time, so that concurrent requests cannot pass the count together
                try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(7013, ?::int)")) {
                    lock.setLong(1, ownerId);
                    lock.execute();
                }
                long idle;
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM job WHERE owner_id = ?"
                        + " AND status = 'new' AND stored_events = 0 AND NOT launched")) {
                    ps.setLong(1, ownerId);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        idle = rs.getLong(1);
                    }
                }
                OptionalLong id = idle >= maxIdle
                        ? OptionalLong.empty()
                        : OptionalLong.of(JobIds.allocate(c, null, "", "new", false, ownerId));
                c.commit();
                return id;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        });
    }

    @Override
    public long tokenCount(long userId) {
        return tokens.tokenCount(userId);
    }

    @Override
    public boolean jobExists(long jobId) {
        return !query("reading a job", "SELECT 1 FROM job WHERE id = ?", rs -> 1, jobId)
                .isEmpty();
    }

    @Override
    public boolean shareJob(long jobId, long teamId) {
        return teams.shareJob(jobId, teamId);
    }

    @Override
    public boolean unshareJob(long jobId, long teamId) {
        return teams.unshareJob(jobId, teamId);
    }

    @Override
    public List<Team> jobTeams(long jobId) {
        return teams.jobTeams(jobId);
    }
}
