package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jobstream.api.EventRow;
import io.jobstream.api.EventSearch.Criteria;
import io.jobstream.api.EventSearch.Result;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cross-job search's event filter and V6's partial index must say the same thing: a rare event type is served
 * by {@code job_event_index_rare_event_idx} even in a generic plan (what a prepared statement gets after a few runs),
 * and the common types are not indexed at all (their cost at ingest is what the partial index saves). The host filter
 * is served by V9's indexes on the name's hash, and two names with the same hash stay apart.
 */
class EventSearchPlanIT {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void aRareEventTypeUsesThePartialIndexInAGenericPlan() throws SQLException {
        try (Connection c = connection();
                Statement s = c.createStatement()) {
            genericPlansOnly(s);
            s.execute("PREPARE rare(text) AS SELECT i.job_id, i.counter FROM job_event_index i WHERE i.event = $1 AND "
                    + PostgresEventSearch.RARE_EVENT + " ORDER BY i.job_id DESC, i.counter DESC LIMIT 20");
            String plan = plan(s, "EXPLAIN EXECUTE rare('playbook_on_stats')");
            assertTrue(plan.contains("job_event_index_rare_event_idx"), plan);
        }
    }

    @Test
    void theCommonTypesAreExactlyTheOnesLeftOutOfTheIndex() throws SQLException {
        try (Connection c = connection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT indexdef FROM pg_indexes" + " WHERE indexname = 'job_event_index_rare_event_idx'")) {
            assertTrue(rs.next(), "V6 made the partial index");
            String def = rs.getString(1);
            for (String common : PostgresEventSearch.COMMON_EVENTS)
                assertTrue(def.contains("'" + common + "'"), common + " missing from " + def);
            assertTrue(
                    def.split("'").length == 2 * PostgresEventSearch.COMMON_EVENTS.size() + 1,
                    "the index leaves out other types than COMMON_EVENTS: " + def);
        }
    }

    @Test
    void aHostIsFoundThroughItsHashIndexInAGenericPlan() throws SQLException {
        try (Connection c = connection();
                Statement s = c.createStatement()) {
            genericPlansOnly(s);
            // an empty table's statistics favour a bitmap scan and a sort: ask whether the index can walk in order
            s.execute("SET enable_bitmapscan = off");
            s.execute("SET enable_sort = off");
            String host = hostFilter("$1");
            s.execute("PREPARE by_host(text) AS SELECT i.job_id, i.counter FROM job_event_index i WHERE " + host
                    + " ORDER BY i.job_id DESC, i.counter DESC LIMIT 20");
            s.execute("PREPARE changed_on_host(text) AS SELECT i.job_id, i.counter FROM job_event_index i WHERE " + host
                    + " AND i.changed ORDER BY i.job_id DESC, i.counter DESC LIMIT 20");
            String plan = plan(s, "EXPLAIN EXECUTE by_host('web-01.example.com')");
            assertTrue(plan.contains("job_event_index_host_idx") && plan.contains("Backward"), plan);
            plan = plan(s, "EXPLAIN EXECUTE changed_on_host('web-01.example.com')");
            assertTrue(plan.contains("job_event_index_host_changed_idx"), plan);
        }
    }

    @Test
    void aFrequentHostIsWalkedNewestFirstNotCollectedAndSorted() throws SQLException {
        try (Connection c = connection();
                Statement s = c.createStatement()) {
            // 200,000 rows, 100 hosts: each host on 2,000 rows spread over every job (jobs 5000..5199, own range)
            s.execute("INSERT INTO job_event_index (job_id, counter, event, host_name, task_uuid, play, task, changed,"
                    + " failed, created_us) SELECT 5000 + j, c, 'runner_on_ok', 'host' || (c % 100), '', '', '',"
                    + " c % 20 = 3, false, 0 FROM generate_series(0, 199) j, generate_series(1, 1000) c");
            s.execute("ANALYZE job_event_index");
            // a custom plan (constants folded), as the first executions of the search get: without V9's dependency
            // statistics the planner multiplies the hash's and the name's selectivity, expects a row or two, and
            // reads all 2,000 rows of the host in a bitmap scan to sort them
            String plan = plan(
                    s,
                    "EXPLAIN SELECT i.job_id, i.counter FROM job_event_index i WHERE "
                            + hostFilter("'host42'")
                            + " ORDER BY i.job_id DESC, i.counter DESC LIMIT 20");
            assertTrue(plan.contains("Index Scan Backward using job_event_index_host_idx"), plan);
            s.execute("DELETE FROM job_event_index WHERE job_id BETWEEN 5000 AND 5199");
        }
    }

    @Test
    void twoHostsWithTheSameHashAreNotMixedUp() throws SQLException {
        String[] pair = new String[2];
        try (Connection c = connection();
                Statement s = c.createStatement()) {
            // 2^32 hash values: among 300,000 names some pairs collide (about ten expected); take the first
            try (ResultSet rs = s.executeQuery("SELECT min(n), max(n) FROM (SELECT 'host-' || g AS n,"
                    + " hashtext('host-' || g) AS h FROM generate_series(1, 300000) g) x GROUP BY h"
                    + " HAVING count(*) > 1 ORDER BY min(n) LIMIT 1")) {
                assertTrue(rs.next(), "no two of 300,000 names share a hash");
                pair[0] = rs.getString(1);
                pair[1] = rs.getString(2);
            }
            s.execute("CREATE TABLE job_event_p9 PARTITION OF job_event FOR VALUES FROM (9000) TO (10000)");
            // job 9001: the two names take turns, counters 1..6
            s.execute("INSERT INTO job_event (id, job_id, counter, event, host_name, created, modified, received)"
                    + " SELECT 9001000 + n, 9001, n, 'runner_on_ok', CASE WHEN n % 2 = 1 THEN '" + pair[0] + "' ELSE '"
                    + pair[1] + "' END, now(), now(), now() FROM generate_series(1, 6) n");
            s.execute("INSERT INTO job_event_index (job_id, counter, event, host_name, task_uuid, play, task, changed,"
                    + " failed, created_us) SELECT job_id, counter, event, host_name, '', '', '', counter > 4, false, 0"
                    + " FROM job_event WHERE job_id = 9001");
        }
        PostgresEventSearch search = new PostgresEventSearch(db.database().dataSource());
        Result first = search.search(new Criteria(pair[0], null, null, null), null, null, 20);
        assertThat(first.rows()).extracting(EventRow::counter).containsExactly(5, 3, 1);
        assertThat(first.rows()).extracting(EventRow::hostName).containsOnly(pair[0]);
        Result second = search.search(new Criteria(pair[1], true, null, null), null, null, 20);
        assertThat(second.rows()).extracting(EventRow::counter).containsExactly(6);
    }

    /** A pooled connection with the planner's defaults: tests change them, and the pool hands connections on. */
    private static Connection connection() throws SQLException {
        Connection c = db.database().dataSource().getConnection();
        try (Statement s = c.createStatement()) {
            s.execute("RESET ALL");
            s.execute("DEALLOCATE ALL");
        }
        return c;
    }

    /** Plans as a prepared statement gets them after a few runs, and no sequential scan where an index can serve. */
    private static void genericPlansOnly(Statement s) throws SQLException {
        s.execute("SET enable_seqscan = off");
        s.execute("SET plan_cache_mode = force_generic_plan");
    }

    /** {@link PostgresEventSearch#HOST} with both of its parameters replaced by {@code value}. */
    private static String hostFilter(String value) {
        return PostgresEventSearch.HOST.replace("?", value);
    }

    private static String plan(Statement s, String explain) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery(explain)) {
            while (rs.next()) out.append(rs.getString(1)).append('\n');
        }
        return out.toString();
    }
}
