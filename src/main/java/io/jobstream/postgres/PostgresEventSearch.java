package io.jobstream.postgres;

import io.jobstream.api.EventRow;
import io.jobstream.api.EventSearch;
import io.jobstream.api.ReadException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The cross-job event search on {@code job_event_index} (V6), newest first by (job_id, counter), keyset-paged,
 * never counted.
 *
 * <p>Design note. An index per job_event partition cannot answer "newest events of host X" without probing every
 * partition and sorting; the unpartitioned index table can: admins walk one of its indexes backwards (host name's hash,
 * a rare event type, changed or failed; the primary key without filters or for a common event type) and stop after a page. Other users walk the jobs
 * they may see newest first ({@link JobVisibility#CONDITION}) and probe the same indexes once per job, stopping as
 * soon as a page is full, so a user never pays for jobs they cannot see. Only the page's rows are then read from
 * job_event, by primary key. Filter values are bound parameters; changed and failed become literals so that the
 * partial indexes match even in a generic plan. Thread-safe; a pooled connection per call.
 */
public final class PostgresEventSearch implements EventSearch {
    /**
     * The event types that make up most of every run (~90% of the recorded real one): not indexed, since a page of
     * them is found at once walking the primary key backwards. Must match V6's {@code job_event_index_rare_event_idx}.
     */
    static final Set<String> COMMON_EVENTS = Set.of(
            "runner_on_start",
            "runner_on_ok",
            "runner_item_on_ok",
            "runner_on_skipped",
            "runner_item_on_skipped",
            "playbook_on_task_start",
            "verbose");
    /** V6's partial index predicate, word for word. */
    static final String RARE_EVENT = "i.event NOT IN ('runner_on_start', 'runner_on_ok', 'runner_item_on_ok',"
            + " 'runner_on_skipped', 'runner_item_on_skipped', 'playbook_on_task_start', 'verbose')";

    /**
     * The host filter, two parameters (the name twice): V9's indexes key on the name's hash, the equality drops the
     * rare other name with the same hash, and the last term lets the partial indexes match.
     */
    static final String HOST = "hashtext(i.host_name) = hashtext(?) AND i.host_name = ? AND i.host_name <> ''";

    private static final String E_COLUMNS = qualified(PostgresEventReader.COLUMNS) + ", e.stdout";

    private final DataSource dataSource;

    public PostgresEventSearch(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Result search(Criteria criteria, Long visibleTo, Position before, int limit) {
        List<Object> params = new ArrayList<>();
        String keys;
        if (visibleTo == null) {
            keys = "SELECT i.job_id, i.counter FROM job_event_index i WHERE " + conditions(criteria, before, params)
                    + " ORDER BY i.job_id DESC, i.counter DESC LIMIT ?";
            params.add(limit);
        } else {
            List<Object> inner = new ArrayList<>();
            String cond = conditions(criteria, before, inner);
            keys = "SELECT k.job_id, k.counter FROM (SELECT j.id FROM job j WHERE " + JobVisibility.CONDITION
                    + (before == null ? "" : " AND j.id <= ?") + " ORDER BY j.id DESC) v"
                    + " CROSS JOIN LATERAL (SELECT i.job_id, i.counter FROM job_event_index i WHERE i.job_id = v.id AND "
                    + cond + " ORDER BY i.counter DESC LIMIT ?) k ORDER BY k.job_id DESC, k.counter DESC LIMIT ?";
            params.add(visibleTo);
            params.add(visibleTo);
            if (before != null) params.add(before.jobId());
            params.addAll(inner);
            params.add(limit);
            params.add(limit);
        }
        // LEFT JOIN: a key whose event row is gone (retention) still moves the keyset on
        String sql = "SELECT s.job_id AS key_job, s.counter AS key_counter, " + E_COLUMNS + " FROM (" + keys
                + ") s LEFT JOIN job_event e ON e.job_id = s.job_id AND e.counter = s.counter"
                + " ORDER BY s.job_id DESC, s.counter DESC";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = Statements.bind(c.prepareStatement(sql), params.toArray())) {
            List<EventRow> rows = new ArrayList<>(limit);
            int scanned = 0;
            Position last = null;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    scanned++;
                    last = new Position(rs.getLong("key_job"), rs.getInt("key_counter"));
                    if (rs.getObject("id") != null) rows.add(PostgresEventReader.row(rs));
                }
            }
            return new Result(rows, scanned == limit ? last : null);
        } catch (SQLException e) {
            throw new ReadException("searching job events failed", e);
        }
    }

    private static String conditions(Criteria c, Position before, List<Object> params) {
        List<String> and = new ArrayList<>();
        if (c.hostName() != null) {
            and.add(HOST);
            params.add(c.hostName());
            params.add(c.hostName());
        }
        if (c.event() != null) {
            // a rare type: the partial index (V6) matches through the literal predicate; a common one walks the key
            and.add(COMMON_EVENTS.contains(c.event()) ? "i.event = ?" : "i.event = ? AND " + RARE_EVENT);
            params.add(c.event());
        }
        // literals, not parameters: a generic plan can then still use the partial indexes (changed, failed)
        if (c.changed() != null) and.add(c.changed() ? "i.changed" : "NOT i.changed");
        if (c.failed() != null) and.add(c.failed() ? "i.failed" : "NOT i.failed");
        if (before != null) {
            and.add("(i.job_id, i.counter) < (?, ?)");
            params.add(before.jobId());
            params.add(before.counter());
        }
        return and.isEmpty() ? "true" : String.join(" AND ", and);
    }

    private static String qualified(String columns) {
        StringBuilder out = new StringBuilder();
        for (String col : columns.split(",")) {
            if (out.length() > 0) out.append(", ");
            out.append("e.").append(col.trim());
        }
        return out.toString();
    }
}
