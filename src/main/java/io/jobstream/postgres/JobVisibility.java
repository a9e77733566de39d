package io.jobstream.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Which jobs a user may see (SPEC §8), as one SQL condition shared by the access checks
 * ({@link PostgresAuthStore}) and the REST job list ({@link PostgresJobReader}), so that the two never disagree: a
 * job is visible to superusers, its owner, and members of the teams it is shared with. Thread-safe.
 */
final class JobVisibility {
    /** The condition on {@code job j} for non-superusers; {@link #bindUser} binds its two parameters. */
    static final String CONDITION = "(j.owner_id = ? OR EXISTS (SELECT 1 FROM job_team jt JOIN auth_team_member m"
            + " ON m.team_id = jt.team_id WHERE jt.job_id = j.id AND m.user_id = ?))";

    private final Statements sql;

    JobVisibility(Statements sql) {
        this.sql = sql;
    }

    /** Binds the user id to {@link #CONDITION}'s parameters, from {@code index}; returns the next index. */
    static int bindUser(PreparedStatement ps, int index, long userId) throws SQLException {
        ps.setLong(index, userId);
        ps.setLong(index + 1, userId);
        return index + 2;
    }

    boolean mayView(long userId, long jobId) {
        // superusers may watch any id, even of a job not created yet (its first events may be on their way)
        return sql.query(
                        "checking job access",
                        "SELECT coalesce((SELECT is_superuser FROM auth_user WHERE id = ?), false)"
                                + " OR EXISTS (SELECT 1 FROM job j WHERE j.id = ? AND " + CONDITION + ")",
                        rs -> rs.getBoolean(1),
                        userId,
                        jobId,
                        userId,
                        userId)
                .get(0);
    }

    Set<Long> visibleOf(long userId, Collection<Long> jobIds) {
        if (jobIds.isEmpty()) return Set.of();
        Long[] ids = jobIds.toArray(Long[]::new);
        // superusers may watch any id, as in mayView; the rest through the one visibility condition
        return sql.with("checking job access", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT x FROM unnest(?::bigint[]) x"
                    + " WHERE coalesce((SELECT is_superuser FROM auth_user WHERE id = ?), false)"
                    + " OR EXISTS (SELECT 1 FROM job j WHERE j.id = x AND " + CONDITION + ")")) {
                ps.setArray(1, c.createArrayOf("bigint", ids));
                ps.setLong(2, userId);
                bindUser(ps, 3, userId);
                Set<Long> visible = new HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) visible.add(rs.getLong(1));
                }
                return visible;
            }
        });
    }
}
