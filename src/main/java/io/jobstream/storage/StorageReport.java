package io.jobstream.storage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How much the store holds: the whole database, each table (a partitioned table sums its partitions, which are
 * listed too), the largest jobs and playbooks, and the oldest stored event.
 *
 * <p>Rows of {@code job_event} are the jobs' own counts ({@code stored_events}, exact and free to read); rows of the
 * other tables are counted. Bytes are what PostgreSQL takes on disk: heap, indexes and TOAST.
 *
 * @param oldestEvent {@code created} of the oldest job's first stored event, null when no event is stored
 */
public record StorageReport(
        Instant taken,
        long databaseBytes,
        List<Table> tables,
        List<Job> largestJobs,
        List<Playbook> largestPlaybooks,
        Instant oldestEvent,
        Long oldestEventJob) {

    public record Table(String name, long rows, long bytes, List<Table> partitions) {}

    public record Job(
            long id, String name, String playbook, String status, long events, long bytes, boolean eventsExpired) {}

    public record Playbook(String playbook, long jobs, long events, long bytes) {}

    public long totalRows() {
        return tables.stream().mapToLong(Table::rows).sum();
    }

    public long totalBytes() {
        return tables.stream().mapToLong(Table::bytes).sum();
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("taken", taken.toString());
        m.put("database_bytes", databaseBytes);
        m.put("total_rows", totalRows());
        m.put("total_bytes", totalBytes());
        List<Object> ts = new ArrayList<>();
        for (Table t : tables) ts.add(table(t));
        m.put("tables", ts);
        List<Object> js = new ArrayList<>();
        for (Job j : largestJobs) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("id", j.id());
            o.put("name", j.name());
            o.put("playbook", j.playbook());
            o.put("status", j.status());
            o.put("events", j.events());
            o.put("bytes", j.bytes());
            o.put("events_expired", j.eventsExpired());
            js.add(o);
        }
        m.put("largest_jobs", js);
        List<Object> ps = new ArrayList<>();
        for (Playbook p : largestPlaybooks) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("playbook", p.playbook());
            o.put("jobs", p.jobs());
            o.put("events", p.events());
            o.put("bytes", p.bytes());
            ps.add(o);
        }
        m.put("largest_playbooks", ps);
        m.put("oldest_event", oldestEvent == null ? null : oldestEvent.toString());
        m.put("oldest_event_job", oldestEventJob);
        return m;
    }

    private static Map<String, Object> table(Table t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", t.name());
        o.put("rows", t.rows());
        o.put("bytes", t.bytes());
        if (!t.partitions().isEmpty()) {
            List<Object> parts = new ArrayList<>();
            for (Table p : t.partitions()) parts.add(table(p));
            o.put("partitions", parts);
        }
        return o;
    }
}
