package io.jobstream.postgres;

import io.jobstream.storage.StorageReader;
import io.jobstream.storage.StorageReport;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The storage report from PostgreSQL's catalog and the job rows, never from a scan of {@code job_event}: bytes are
 * {@code pg_total_relation_size} (heap, indexes, TOAST), event rows the jobs' {@code stored_events}, the rows of the
 * other (small) tables counted; the largest jobs and playbooks come from {@code stored_bytes}; the oldest event is
 * the first event of the oldest job that still has events (one key lookup). Thread-safe.
 */
public final class PostgresStorage implements StorageReader {
    private final DataSource dataSource;
    private final Clock clock;

    public PostgresStorage(DataSource dataSource, Clock clock) {
        this.dataSource = dataSource;
        this.clock = clock;
    }

    @Override
    public StorageReport report(int top) {
        try (Connection c = dataSource.getConnection()) {
            Oldest oldest = oldest(c);
            return new StorageReport(
                    clock.instant(),
                    databaseBytes(c),
                    tables(c),
                    largestJobs(c, top),
                    largestPlaybooks(c, top),
                    oldest == null ? null : oldest.created(),
                    oldest == null ? null : oldest.job());
        } catch (SQLException e) {
            throw new IllegalStateException("reading the storage report failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Map<Long, Boolean> eventsExpired(Collection<Long> jobIds) {
        Map<Long, Boolean> rows = new HashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT id, events_expired FROM job WHERE id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("bigint", jobIds.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) rows.put(rs.getLong(1), rs.getBoolean(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading which jobs have events failed: " + e.getMessage(), e);
        }
        return rows;
    }

    private static long databaseBytes(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_database_size(current_database())")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Every table of the schema; a partitioned table sums and lists its partitions. */
    private static List<StorageReport.Table> tables(Connection c) throws SQLException {
        Map<Long, Long> eventsPerBlock = new HashMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id / " + Partitions.JOBS_PER_PARTITION
                        + ", sum(stored_events) FILTER (WHERE NOT events_expired) FROM job GROUP BY 1")) {
            while (rs.next()) eventsPerBlock.put(rs.getLong(1), rs.getLong(2));
        }
        List<StorageReport.Table> tables = new ArrayList<>();
        List<String> plain = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT c.relname, c.relkind = 'p' FROM pg_class c WHERE c.relnamespace ="
                        + " current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                        + " AND c.relname NOT LIKE 'flyway%' ORDER BY c.relname")) {
            while (rs.next()) {
                if (rs.getBoolean(2)) tables.add(partitioned(c, rs.getString(1), eventsPerBlock));
                else plain.add(rs.getString(1));
            }
        }
        for (String name : plain) {
            if (name.matches(Partitions.PREFIX + "\\d+_expired")) continue; // being dropped by retention
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM " + quote(name)
                            + "), pg_total_relation_size('" + quote(name) + "')")) {
                rs.next();
                tables.add(new StorageReport.Table(name, rs.getLong(1), rs.getLong(2), List.of()));
            }
        }
        tables.sort((a, b) -> Long.compare(b.bytes(), a.bytes()));
        return tables;
    }

    private static StorageReport.Table partitioned(Connection c, String name, Map<Long, Long> eventsPerBlock)
            throws SQLException {
        List<StorageReport.Table> parts = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT c.relname, pg_total_relation_size(c.oid) FROM"
                + " pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ?::regclass"
                + " ORDER BY c.relname")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String part = rs.getString(1);
                    long rows = 0;
                    if (name.equals("job_event") && part.matches(Partitions.PREFIX + "\\d{1,15}")) {
                        rows = eventsPerBlock.getOrDefault(
                                Long.parseLong(part.substring(Partitions.PREFIX.length())), 0L);
                    }
                    parts.add(new StorageReport.Table(part, rows, rs.getLong(2), List.of()));
                }
            }
        }
        parts.sort((a, b) -> Long.compare(number(a.name()), number(b.name()))); // p2 before p10
        long rows = parts.stream().mapToLong(StorageReport.Table::rows).sum();
        long bytes = parts.stream().mapToLong(StorageReport.Table::bytes).sum();
        return new StorageReport.Table(name, rows, bytes, parts);
    }

    private static long number(String partition) {
        String digits = partition.replaceAll("\\D", "");
        return digits.isEmpty() || digits.length() > 15 ? Long.MAX_VALUE : Long.parseLong(digits);
    }

    private static String quote(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static List<StorageReport.Job> largestJobs(Connection c, int top) throws SQLException {
        List<StorageReport.Job> jobs = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, name, playbook, status, stored_events,"
                + " stored_bytes, events_expired FROM job WHERE NOT events_expired AND stored_events > 0"
                + " ORDER BY stored_bytes DESC, id LIMIT ?")) {
            ps.setInt(1, top);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(new StorageReport.Job(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getLong(5),
                            rs.getLong(6),
                            rs.getBoolean(7)));
                }
            }
        }
        return jobs;
    }

    private static List<StorageReport.Playbook> largestPlaybooks(Connection c, int top) throws SQLException {
        List<StorageReport.Playbook> playbooks = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT playbook, count(*), sum(stored_events),"
                + " sum(stored_bytes) FROM job WHERE NOT events_expired AND stored_events > 0 GROUP BY playbook"
                + " ORDER BY 4 DESC, 1 LIMIT ?")) {
            ps.setInt(1, top);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    playbooks.add(
                            new StorageReport.Playbook(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
                }
            }
        }
        return playbooks;
    }

    private record Oldest(long job, Instant created) {}

    private static Oldest oldest(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT j.id, (SELECT min(e.created) FROM job_event e WHERE e.job_id ="
                        + " j.id) FROM (SELECT id FROM job WHERE NOT events_expired AND stored_events > 0"
                        + " ORDER BY created, id LIMIT 1) j")) {
            if (!rs.next()) return null;
            Instant created = Statements.instant(rs, "min");
            return created == null ? null : new Oldest(rs.getLong(1), created);
        }
    }
}
