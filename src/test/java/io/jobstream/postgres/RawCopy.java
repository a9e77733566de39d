package io.jobstream.postgres;

import io.jobstream.event.JobEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;

/**
 * The benchmark's baseline: binary COPY of rows straight into {@code job_event}, one transaction per batch, with
 * none of jobstream's work around it (no HTTP, decoding, queue, de-duplication, job bookkeeping or broadcast).
 */
public final class RawCopy {
    private final DataSource dataSource;
    private final EventCopy copy = new EventCopy();
    private final Partitions partitions = new Partitions();
    private long nextId = 1_000_000_000_000L;

    public RawCopy(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void copy(List<JobEvent> batch) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            partitions.ensure(c, batch.stream().map(JobEvent::jobId).distinct().toList());
            c.setAutoCommit(false);
            long[] ids = new long[batch.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = nextId++;
            copy.copyAll(c, batch, ids, Instant.now());
            c.commit();
        }
    }
}
