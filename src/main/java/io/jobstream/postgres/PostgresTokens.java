package io.jobstream.postgres;

import static io.jobstream.postgres.Statements.first;
import static io.jobstream.postgres.Statements.instant;

import io.jobstream.auth.Token;
import io.jobstream.auth.User;
import io.jobstream.event.CaptureLevel;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The token half of {@link PostgresAuthStore}: API tokens (a user's personal ones, and the per-job ingest tokens
 * with no user) in {@code auth_token} of V3__auth.sql, looked up by the hash of the secret, never the secret. The
 * store delegates here so that credentials stay apart from users and teams. One short statement per call on a pooled
 * connection ({@link Statements}). Thread-safe; owned by the store, nothing to close.
 */
final class PostgresTokens {
    private final Statements sql;

    PostgresTokens(Statements sql) {
        this.sql = sql;
    }

    private <T> List<T> query(String what, String statement, Statements.RowMapper<T> mapper, Object... args) {
        return sql.query(what, statement, mapper, args);
    }

    private int update(String what, String statement, Object... args) {
        return sql.update(what, statement, args);
    }

    private static final String TOKEN_COLUMNS = "t.id AS token_id, t.kind, t.job_id, t.description, t.capture,"
            + " t.created AS token_created, t.expires, u.id, u.username, u.is_superuser, u.password, u.created";

    private static Token token(ResultSet rs) throws SQLException {
        long jobId = rs.getLong("job_id");
        Long job = rs.wasNull() ? null : jobId;
        rs.getLong("id");
        User user = rs.wasNull() ? null : PostgresAuthStore.user(rs);
        return new Token(
                rs.getLong("token_id"),
                user,
                rs.getString("kind"),
                job,
                rs.getString("description"),
                instant(rs, "token_created"),
                instant(rs, "expires"),
                rs.getString("capture") == null ? null : CaptureLevel.ofStored(rs.getString("capture")));
    }

    long createToken(
            byte[] tokenHash,
            Long userId,
            String kind,
            Long jobId,
            String description,
            Instant expires,
            CaptureLevel capture) {
        return query(
                        "creating a token",
                        "INSERT INTO auth_token (token_hash, user_id, kind, job_id, description, expires, capture)"
                                + " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        rs -> rs.getLong(1),
                        tokenHash,
                        userId,
                        kind,
                        jobId,
                        description,
                        expires,
                        capture == null ? null : capture.wire())
                .get(0);
    }

    Optional<Token> token(byte[] tokenHash, Instant now) {
        return first(query(
                "reading a token",
                "SELECT " + TOKEN_COLUMNS + " FROM auth_token t LEFT JOIN auth_user u"
                        + " ON u.id = t.user_id WHERE t.token_hash = ? AND (t.expires IS NULL OR t.expires > ?)",
                PostgresTokens::token,
                tokenHash,
                now));
    }

    List<Token> tokensOf(long userId) {
        return query(
                "listing tokens",
                "SELECT " + TOKEN_COLUMNS + " FROM auth_token t JOIN auth_user u"
                        + " ON u.id = t.user_id WHERE t.user_id = ? ORDER BY t.id",
                PostgresTokens::token,
                userId);
    }

    boolean deleteToken(long id, Long userId) {
        if (userId == null) return update("revoking a token", "DELETE FROM auth_token WHERE id = ?", id) > 0;
        return update("revoking a token", "DELETE FROM auth_token WHERE id = ? AND user_id = ?", id, userId) > 0;
    }

    void deleteJobTokens(long jobId) {
        update("revoking job tokens", "DELETE FROM auth_token WHERE job_id = ? AND user_id IS NULL", jobId);
    }

    long tokenCount(long userId) {
        return query(
                        "counting tokens",
                        "SELECT count(*) FROM auth_token WHERE user_id = ?",
                        rs -> rs.getLong(1),
                        userId)
                .get(0);
    }
}
