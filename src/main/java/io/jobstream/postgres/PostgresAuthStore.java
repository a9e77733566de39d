package io.jobstream.postgres;

import static io.jobstream.postgres.Statements.first;
import static io.jobstream.postgres.Statements.instant;

import io.jobstream.auth.AuthStore;
import io.jobstream.auth.JobOwner;
import io.jobstream.auth.Team;
import io.jobstream.auth.Token;
import io.jobstream.auth.User;
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
 * Users, teams, sessions, tokens and job visibility in PostgreSQL (schema V3__auth.sql). Each call is one short
 * statement (or transaction) on a pooled connection ({@link Statements}); which jobs a user sees is
 * {@link JobVisibility}'s rule, shared with the REST job list. Thread-safe.
 */
public final class PostgresAuthStore implements AuthStore {
    private static final String USER_COLUMNS = "u.id, u.username, u.is_superuser, u.password, u.created";

    private final Statements sql;
    private final JobVisibility visibility;

    public PostgresAuthStore(DataSource dataSource) {
        this.sql = new Statements(dataSource);
        this.visibility = new JobVisibility(sql);
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

    private static User user(ResultSet rs) throws SQLException {
        return new User(
                rs.getLong("id"),
                rs.getString("username"),
                rs.getBoolean("is_superuser"),
                rs.getString("password"),
                instant(rs, "created"));
    }

    private static Team team(ResultSet rs) throws SQLException {
        return new Team(rs.getLong("id"), rs.getString("name"), instant(rs, "created"));
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
    public List<User> users(long offset, int limit) {
        return query(
                "listing users",
                "SELECT " + USER_COLUMNS + " FROM auth_user u ORDER BY u.id LIMIT ? OFFSET ?",
                PostgresAuthStore::user,
                limit,
                offset);
    }

    @Override
    public long userCount() {
        return query("counting users", "SELECT count(*) FROM auth_user", rs -> rs.getLong(1))
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
    public void createSession(byte[] keyHash, long userId, Instant expires) {
        update(
                "creating a session",
                "INSERT INTO auth_session (key_hash, user_id, expires) VALUES (?, ?, ?)",
                keyHash,
                userId,
                expires);
        // expired sessions go when new ones come: no sweeper thread needed, and the index keeps it cheap
        update("deleting expired sessions", "DELETE FROM auth_session WHERE expires < now()");
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
            byte[] tokenHash, Long userId, String kind, Long jobId, String description, Instant expires) {
        return query(
                        "creating a token",
                        "INSERT INTO auth_token (token_hash, user_id, kind, job_id, description, expires)"
                                + " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                        rs -> rs.getLong(1),
                        tokenHash,
                        userId,
                        kind,
                        jobId,
                        description,
                        expires)
                .get(0);
    }

    private static final String TOKEN_COLUMNS = "t.id AS token_id, t.kind, t.job_id, t.description,"
            + " t.created AS token_created, t.expires, u.id, u.username, u.is_superuser, u.password, u.created";

    private static Token token(ResultSet rs) throws SQLException {
        long jobId = rs.getLong("job_id");
        Long job = rs.wasNull() ? null : jobId;
        rs.getLong("id");
        User user = rs.wasNull() ? null : user(rs);
        return new Token(
                rs.getLong("token_id"),
                user,
                rs.getString("kind"),
                job,
                rs.getString("description"),
                instant(rs, "token_created"),
                instant(rs, "expires"));
    }

    @Override
    public Optional<Token> token(byte[] tokenHash, Instant now) {
        return first(query(
                "reading a token",
                "SELECT " + TOKEN_COLUMNS + " FROM auth_token t LEFT JOIN auth_user u"
                        + " ON u.id = t.user_id WHERE t.token_hash = ? AND (t.expires IS NULL OR t.expires > ?)",
                PostgresAuthStore::token,
                tokenHash,
                now));
    }

    @Override
    public List<Token> tokensOf(long userId) {
        return query(
                "listing tokens",
                "SELECT " + TOKEN_COLUMNS + " FROM auth_token t JOIN auth_user u"
                        + " ON u.id = t.user_id WHERE t.user_id = ? ORDER BY t.id",
                PostgresAuthStore::token,
                userId);
    }

    @Override
    public boolean deleteToken(long id, Long userId) {
        if (userId == null) return update("revoking a token", "DELETE FROM auth_token WHERE id = ?", id) > 0;
        return update("revoking a token", "DELETE FROM auth_token WHERE id = ? AND user_id = ?", id, userId) > 0;
    }

    @Override
    public void deleteJobTokens(long jobId) {
        update("revoking job tokens", "DELETE FROM auth_token WHERE job_id = ? AND user_id IS NULL", jobId);
    }

    @Override
    public Optional<Team> createTeam(String name) {
        return first(query(
                "creating a team",
                "INSERT INTO auth_team (name) VALUES (?) ON CONFLICT (name) DO NOTHING"
                        + " RETURNING id, name, created",
                PostgresAuthStore::team,
                name));
    }

    @Override
    public Optional<Team> team(long id) {
        return first(query(
                "reading a team", "SELECT id, name, created FROM auth_team WHERE id = ?", PostgresAuthStore::team, id));
    }

    @Override
    public List<Team> teams(Long memberId, long offset, int limit) {
        if (memberId == null) {
            return query(
                    "listing teams",
                    "SELECT id, name, created FROM auth_team ORDER BY id LIMIT ? OFFSET ?",
                    PostgresAuthStore::team,
                    limit,
                    offset);
        }
        return query(
                "listing teams",
                "SELECT t.id, t.name, t.created FROM auth_team t JOIN auth_team_member m"
                        + " ON m.team_id = t.id WHERE m.user_id = ? ORDER BY t.id LIMIT ? OFFSET ?",
                PostgresAuthStore::team,
                memberId,
                limit,
                offset);
    }

    @Override
    public long teamCount(Long memberId) {
        if (memberId == null)
            return query("counting teams", "SELECT count(*) FROM auth_team", rs -> rs.getLong(1))
                    .get(0);
        return query(
                        "counting teams",
                        "SELECT count(*) FROM auth_team_member WHERE user_id = ?",
                        rs -> rs.getLong(1),
                        memberId)
                .get(0);
    }

    @Override
    public boolean addMember(long teamId, long userId) {
        return update(
                                "adding a team member",
                                "INSERT INTO auth_team_member (team_id, user_id) SELECT t.id, u.id"
                                        + " FROM auth_team t, auth_user u WHERE t.id = ? AND u.id = ? ON CONFLICT DO NOTHING",
                                teamId,
                                userId)
                        > 0
                || isMember(teamId, userId);
    }

    @Override
    public boolean removeMember(long teamId, long userId) {
        return update(
                        "removing a team member",
                        "DELETE FROM auth_team_member WHERE team_id = ? AND user_id = ?",
                        teamId,
                        userId)
                > 0;
    }

    @Override
    public boolean deleteUser(long userId) {
        // sessions, tokens and memberships go by ON DELETE CASCADE, job.owner_id by SET NULL
        return update("deleting a user", "DELETE FROM auth_user WHERE id = ?", userId) > 0;
    }

    @Override
    public boolean deleteTeam(long teamId) {
        return update("deleting a team", "DELETE FROM auth_team WHERE id = ?", teamId) > 0;
    }

    @Override
    public boolean isMember(long teamId, long userId) {
        return !query(
                        "reading team members",
                        "SELECT 1 FROM auth_team_member WHERE team_id = ? AND user_id = ?",
                        rs -> 1,
                        teamId,
                        userId)
                .isEmpty();
    }

    @Override
    public List<User> members(long teamId) {
        return query(
                "listing team members",
                "SELECT " + USER_COLUMNS + " FROM auth_team_member m JOIN auth_user u"
                        + " ON u.id = m.user_id WHERE m.team_id = ? ORDER BY u.id",
                PostgresAuthStore::user,
                teamId);
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
        return query(
                        "counting tokens",
                        "SELECT count(*) FROM auth_token WHERE user_id = ?",
                        rs -> rs.getLong(1),
                        userId)
                .get(0);
    }

    @Override
    public boolean jobExists(long jobId) {
        return !query("reading a job", "SELECT 1 FROM job WHERE id = ?", rs -> 1, jobId)
                .isEmpty();
    }

    @Override
    public boolean shareJob(long jobId, long teamId) {
        return update(
                                "sharing a job",
                                "INSERT INTO job_team (job_id, team_id) SELECT j.id, t.id FROM job j, auth_team t"
                                        + " WHERE j.id = ? AND t.id = ? ON CONFLICT DO NOTHING",
                                jobId,
                                teamId)
                        > 0
                || !query(
                                "reading shares",
                                "SELECT 1 FROM job_team WHERE job_id = ? AND team_id = ?",
                                rs -> 1,
                                jobId,
                                teamId)
                        .isEmpty();
    }

    @Override
    public boolean unshareJob(long jobId, long teamId) {
        return update("unsharing a job", "DELETE FROM job_team WHERE job_id = ? AND team_id = ?", jobId, teamId) > 0;
    }

    @Override
    public List<Team> jobTeams(long jobId) {
        return query(
                "listing shares",
                "SELECT t.id, t.name, t.created FROM job_team jt JOIN auth_team t"
                        + " ON t.id = jt.team_id WHERE jt.job_id = ? ORDER BY t.id",
                PostgresAuthStore::team,
                jobId);
    }
}
