package io.jobstream.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.jobstream.config.Config.DatabaseConfig;
import io.jobstream.metrics.CheckResult;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The connection pool and schema migrations for one PostgreSQL, external or embedded (then this owns the embedded
 * server too). {@link #start()} starts the embedded server if there is one, opens the pool and migrates;
 * {@link #close()} closes the pool, then the embedded server; {@link #check()} answers health probes from any thread.
 * Owned by Server.
 */
public final class Database implements AutoCloseable {
    private final String url;
    private final EmbeddedDatabase embeddedOrNull;
    private final int poolSize;
    private volatile HikariDataSource pool; // read by health probes on HTTP threads

    private Database(String url, EmbeddedDatabase embeddedOrNull, int poolSize) {
        this.url = url;
        this.embeddedOrNull = embeddedOrNull;
        this.poolSize = poolSize;
    }

    /** From {@code postgresql://user:pass@host:port/db}, {@code postgres://…} or a {@code jdbc:postgresql:} URL. */
    public static Database fromUrl(String url, int poolSize) {
        return new Database(url, null, poolSize);
    }

    /** The node's database: {@code database.url}, or when that is empty an embedded server under the data dir. */
    public static Database of(DatabaseConfig config) {
        if (!config.embedded()) return fromUrl(config.url(), config.poolSize());
        return new Database(null, new EmbeddedDatabase(config.dataDir(), config.binariesDir()), config.poolSize());
    }

    public void start() {
        HikariConfig c = pool(embeddedOrNull != null ? embeddedOrNull.start() : url);
        c.setMaximumPoolSize(poolSize);
        c.setPoolName("jobstream-db");
        // A database outage must not fail requests instantly: callers wait up to this for a connection.
        c.setConnectionTimeout(5_000);
        c.setInitializationFailTimeout(30_000);
        c.addDataSourceProperty("ApplicationName", "jobstream");
        pool = new HikariDataSource(c);
        Flyway.configure()
                .dataSource(pool)
                .locations("classpath:db/migration")
                .load()
                .migrate();
    }

    /**
     * The JDBC URL and credentials of a {@code postgresql://}, {@code postgres://} or {@code jdbc:} URL. Package
     * scope: a migration test opens a pool with it on a schema it migrates only part of the way.
     */
    static HikariConfig pool(String url) {
        HikariConfig c = new HikariConfig();
        if (url.startsWith("jdbc:")) {
            c.setJdbcUrl(url);
            return c;
        }
        URI uri = URI.create(url);
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            c.setUsername(URLDecoder.decode(parts[0], StandardCharsets.UTF_8));
            if (parts.length > 1) c.setPassword(URLDecoder.decode(parts[1], StandardCharsets.UTF_8));
        }
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        c.setJdbcUrl("jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getRawPath() + query);
        return c;
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
        if (embeddedOrNull != null) embeddedOrNull.close();
    }
}
