package io.jobstream.postgres;

import static io.jobstream.postgres.PostgresAuthStore.USER_COLUMNS;
import static io.jobstream.postgres.Statements.first;
import static io.jobstream.postgres.Statements.instant;

import io.jobstream.auth.ListQuery;
import io.jobstream.auth.Team;
import io.jobstream.auth.User;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The team half of {@link PostgresAuthStore}: teams, their members, and which teams a job is shared with (tables
 * {@code auth_team}, {@code auth_team_member}, {@code job_team} of V3__auth.sql). The store delegates here so that
 * users, sessions and tokens (who someone is) stay apart from teams (whom they share jobs with); the rule that reads
 * these rows to decide visibility is {@link JobVisibility}'s. One short statement per call on a pooled connection
 * ({@link Statements}). Thread-safe; owned by the store, nothing to close.
 */
final class PostgresTeams {
    private final Statements sql;

    PostgresTeams(Statements sql) {
        this.sql = sql;
    }

    private <T> List<T> query(String what, String statement, Statements.RowMapper<T> mapper, Object... args) {
        return sql.query(what, statement, mapper, args);
    }

    private int update(String what, String statement, Object... args) {
        return sql.update(what, statement, args);
    }

    static Team team(ResultSet rs) throws SQLException {
        return new Team(rs.getLong("id"), rs.getString("name"), instant(rs, "created"));
    }

    Optional<Team> createTeam(String name) {
        return first(query(
                "creating a team",
                "INSERT INTO auth_team (name) VALUES (?) ON CONFLICT (name) DO NOTHING"
                        + " RETURNING id, name, created",
                PostgresTeams::team,
                name));
    }

    Optional<Team> team(long id) {
        return first(query(
                "reading a team", "SELECT id, name, created FROM auth_team WHERE id = ?", PostgresTeams::team, id));
    }

    List<Team> teams(Long memberId, ListQuery q, long offset, int limit) {
        List<Object> args = new ArrayList<>();
        String join = memberOnly(memberId, args);
        String where = ListFilters.where(q, "t.id", "t.name", null, args);
        args.add(limit);
        args.add(offset);
        return query(
                "listing teams",
                "SELECT t.id, t.name, t.created FROM auth_team t" + join + where
                        + ListFilters.orderBy(q, "t.id", "t.name") + " LIMIT ? OFFSET ?",
                PostgresTeams::team,
                args.toArray());
    }

    long teamCount(Long memberId, ListQuery q) {
        List<Object> args = new ArrayList<>();
        String join = memberOnly(memberId, args);
        String where = ListFilters.where(q, "t.id", "t.name", null, args);
        return query(
                        "counting teams",
                        "SELECT count(*) FROM auth_team t" + join + where,
                        rs -> rs.getLong(1),
                        args.toArray())
                .get(0);
    }

    /** The join that keeps only {@code memberId}'s teams (its parameter added to {@code args}), or "" for all. */
    private static String memberOnly(Long memberId, List<Object> args) {
        if (memberId == null) return "";
        args.add(memberId);
        return " JOIN auth_team_member m ON m.team_id = t.id AND m.user_id = ?";
    }

    boolean renameTeam(long teamId, String name) {
        return update(
                        "renaming a team",
                        "UPDATE auth_team SET name = ? WHERE id = ?"
                                + " AND NOT EXISTS (SELECT 1 FROM auth_team o WHERE o.name = ? AND o.id <> ?)",
                        name,
                        teamId,
                        name,
                        teamId)
                > 0;
    }

    boolean addMember(long teamId, long userId) {
        return update(
                                "adding a team member",
                                "INSERT INTO auth_team_member (team_id, user_id) SELECT t.id, u.id"
                                        + " FROM auth_team t, auth_user u WHERE t.id = ? AND u.id = ? ON CONFLICT DO NOTHING",
                                teamId,
                                userId)
                        > 0
                || isMember(teamId, userId);
    }

    boolean removeMember(long teamId, long userId) {
        return update(
                        "removing a team member",
                        "DELETE FROM auth_team_member WHERE team_id = ? AND user_id = ?",
                        teamId,
                        userId)
                > 0;
    }

    boolean deleteTeam(long teamId) {
        return update("deleting a team", "DELETE FROM auth_team WHERE id = ?", teamId) > 0;
    }

    boolean isMember(long teamId, long userId) {
        return !query(
                        "reading team members",
                        "SELECT 1 FROM auth_team_member WHERE team_id = ? AND user_id = ?",
                        rs -> 1,
                        teamId,
                        userId)
                .isEmpty();
    }

    List<User> members(long teamId) {
        return query(
                "listing team members",
                "SELECT " + USER_COLUMNS + " FROM auth_team_member m JOIN auth_user u"
                        + " ON u.id = m.user_id WHERE m.team_id = ? ORDER BY u.id",
                PostgresAuthStore::user,
                teamId);
    }

    boolean shareJob(long jobId, long teamId) {
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

    boolean unshareJob(long jobId, long teamId) {
        return update("unsharing a job", "DELETE FROM job_team WHERE job_id = ? AND team_id = ?", jobId, teamId) > 0;
    }

    List<Team> jobTeams(long jobId) {
        return query(
                "listing shares",
                "SELECT t.id, t.name, t.created FROM job_team jt JOIN auth_team t"
                        + " ON t.id = jt.team_id WHERE jt.job_id = ? ORDER BY t.id",
                PostgresTeams::team,
                jobId);
    }
}
