package io.jobstream.postgres;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cross-job search's event filter and V6's partial index must say the same thing: a rare event type is served
 * by {@code job_event_index_rare_event_idx} even in a generic plan (what a prepared statement gets after a few runs),
 * and the common types are not indexed at all (their cost at ingest is what the partial index saves).
 */
class EventSearchPlanIT {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void aRareEventTypeUsesThePartialIndexInAGenericPlan() throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
                Statement s = c.createStatement()) {
            s.execute("SET enable_seqscan = off");
            s.execute("SET plan_cache_mode = force_generic_plan");
            s.execute("PREPARE rare(text) AS SELECT i.job_id, i.counter FROM job_event_index i WHERE i.event = $1 AND "
                    + PostgresEventSearch.RARE_EVENT + " ORDER BY i.job_id DESC, i.counter DESC LIMIT 20");
            String plan = plan(s, "EXPLAIN EXECUTE rare('playbook_on_stats')");
            assertTrue(plan.contains("job_event_index_rare_event_idx"), plan);
        }
    }

    @Test
    void theCommonTypesAreExactlyTheOnesLeftOutOfTheIndex() throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
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

    private static String plan(Statement s, String explain) throws SQLException {
        StringBuilder out = new StringBuilder();
        try (ResultSet rs = s.executeQuery(explain)) {
            while (rs.next()) out.append(rs.getString(1)).append('\n');
        }
        return out.toString();
    }
}
