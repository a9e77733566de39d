package io.jobstream.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.jobstream.metrics.CheckResult;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The connection pool and schema migrations for one PostgreSQL (embedded or external).
 * {@link #start()} opens the pool and migrates; {@link #close()} closes the pool; {@link #check()} answers health
 * probes from any thread. Owned by Server.
 */
public final class Database implements AutoCloseable {
    private final String jdbcUrl;
    private final String user;
    private final String password;
    private final int poolSize;
    private volatile HikariDataSource pool; // read by health probes on HTTP threads

    private Database(String jdbcUrl, String user, String password, int poolSize) {
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.poolSize = poolSize;
    }

    /** From {@code postgresql://user:pass@host:port/db}, {@code postgres://…} or a {@code jdbc:postgresql:} URL. */
    public static Database fromUrl(String url, int poolSize) {
        if (url.startsWith("jdbc:")) return new Database(url, null, null, poolSize);
        URI uri = URI.create(url);
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
            if (parts.length > 1) password = URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
        }
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getRawPath() + query;
        return new Database(jdbc, user, password, poolSize);
    }

    public void start() {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(jdbcUrl);
        if (user != null) c.setUsername(user);
        if (password != null) c.setPassword(password);
        c.setMaximumPoolSize(poolSize);
        c.setPoolName("jobstream-db");
        // A database outage must not fail requests instantly: callers wait up to this for a connection.
        c.setConnectionTimeout(5_000);
        c.setInitializationFailTimeout(30_000);
        c.addDataSourceProperty("ApplicationName", "jobstream");
        pool = new HikariDataSource(c);
        Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
    }

    public DataSource dataSource() {
        if (pool == null) throw new IllegalStateException("database not started");
        return pool;
    }

    /** OK when a pooled connection answers within 2 s; else "unreachable" (with the driver's message) or "invalid". */
    public CheckResult check() {
        return check(pool);
    }

    /** The same probe on any data source (a test points it at a database that is gone). */
    public static CheckResult check(DataSource dataSource) {
        if (dataSource == null) return CheckResult.failed("unreachable", "the database is not started");
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(2) ? CheckResult.OK : CheckResult.failed("invalid");
        } catch (Exception e) {
            return CheckResult.failed("unreachable", String.valueOf(e.getMessage()));
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.close();
        pool = null;
    }
}
