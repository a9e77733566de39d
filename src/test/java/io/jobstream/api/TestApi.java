package io.jobstream.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.jobstream.auth.Authenticator;
import io.jobstream.auth.BasicCache;
import io.jobstream.auth.JobAccess;
import io.jobstream.auth.PasswordHasher;
import io.jobstream.auth.Principal;
import io.jobstream.auth.Requests;
import io.jobstream.event.Json;
import io.jobstream.postgres.PostgresAuthStore;
import io.jobstream.postgres.PostgresEventReader;
import io.jobstream.postgres.PostgresJobReader;
import io.jobstream.postgres.PostgresStdout;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * For the API ITs: a real embedded PostgreSQL migrated with V1 and holding partition p0 (jobs 0-999), the
 * Postgres readers, and a real Javalin on a free port serving {@link ApiRoutes}. Rows are inserted with plain
 * SQL. {@link #close()} stops the server, then the database.
 */
final class TestApi implements AutoCloseable {
    final EmbeddedPostgres pg;
    final DataSource ds;
    final Javalin app;
    final HttpClient http = HttpClient.newHttpClient();

    TestApi() throws IOException, SQLException {
        pg = EmbeddedPostgres.builder().start();
        ds = pg.getPostgresDatabase();
        Flyway.configure().dataSource(ds).load().migrate();
        sql("CREATE TABLE job_event_p0 PARTITION OF job_event FOR VALUES FROM (0) TO (1000)");
        PostgresAuthStore users = new PostgresAuthStore(ds);
        var access = new JobAccess(
                users,
                new Authenticator(
                        users,
                        new PasswordHasher(),
                        new BasicCache(Duration.ZERO, Clock.systemUTC()),
                        Clock.systemUTC(),
                        new SimpleMeterRegistry()));
        ApiRoutes routes = new ApiRoutes(
                new PostgresJobReader(ds),
                new PostgresEventReader(ds),
                new PostgresStdout(ds),
                new NodeInfo("0.1.0-test", "node-a", Instant.parse("2024-01-01T00:00:00Z")),
                access);
        // these tests are about the read side's shapes: every request is an admin's (AccessMatrixIT covers the rest)
        Principal admin = new Principal(1, "admin", true, Principal.Via.TOKEN, null, 1L);
        app = Javalin.create(cfg -> {
                    cfg.routes.before(ctx -> Requests.attach(ctx, admin));
                    routes.register(cfg.routes);
                })
                .start("127.0.0.1", 0);
    }

    void sql(String... statements) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            for (String st : statements) s.execute(st);
        }
    }

    long count(String query) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                var rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    void job(long id, String status, boolean finished) throws SQLException {
        sql("INSERT INTO job (id, name, playbook, status, event_processing_finished, started, finished, play_count,"
                + " task_count, emitted_events, final_counter, stored_events, last_lag_ms, host_status_counts)"
                + " VALUES (" + id + ", 'job " + id + "', 'site.yml', '" + status + "', " + finished
                + ", '2024-05-01T10:00:00Z', " + (finished ? "'2024-05-01T10:00:02.5Z'" : "NULL")
                + ", 2, 1, 5, 5, 5, 12.5, '{\"ok\": 1}')");
    }

    /** One event; id = job * 1,000,000 + counter. */
    void event(long job, int counter, String uuid, String parent, String event, String stdout, int start, int end)
            throws SQLException {
        try (Connection c = ds.getConnection();
                var ps = c.prepareStatement(
                        "INSERT INTO job_event (id, job_id, counter, uuid, parent_uuid, event, event_data, stdout,"
                                + " start_line, end_line, created, modified, received)"
                                + " VALUES (?, ?, ?, ?, ?, ?, '{\"k\": [1, 2]}', ?, ?, ?, now(), now(), now())")) {
            ps.setLong(1, job * 1_000_000 + counter);
            ps.setLong(2, job);
            ps.setInt(3, counter);
            ps.setString(4, uuid);
            ps.setString(5, parent);
            ps.setString(6, event);
            ps.setString(7, stdout);
            ps.setInt(8, start);
            ps.setInt(9, end);
            ps.executeUpdate();
        }
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    <T> HttpResponse<T> get(String path, HttpResponse.BodyHandler<T> handler) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                        .build(),
                handler);
    }

    JsonNode json(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) throw new AssertionError(path + " answered " + r.statusCode() + ": " + r.body());
        return Json.MAPPER.readTree(r.body());
    }

    @Override
    public void close() throws IOException {
        app.stop();
        pg.close();
    }
}
