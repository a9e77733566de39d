package io.jobstream.postgres;

import io.jobstream.job.JobRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/** Creates job rows with ids from {@code job_id_seq}, skipping ids an emitter already used for its own job. */
public final class PostgresJobRegistry implements JobRegistry {
    private final DataSource dataSource;

    public PostgresJobRegistry(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public long create(String name, String playbook) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO job (id, name, playbook, status)"
                     + " VALUES (nextval('job_id_seq'), ?, ?, 'pending') ON CONFLICT (id) DO NOTHING RETURNING id")) {
            ps.setString(1, name);
            ps.setString(2, playbook);
            for (int attempt = 0; attempt < 1000; attempt++) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) return rs.getLong(1);
                }
            }
            throw new IllegalStateException("no free job id after 1000 attempts");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create job: " + e.getMessage(), e);
        }
    }
}
