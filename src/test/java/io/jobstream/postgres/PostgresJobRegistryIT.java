package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.CaptureLevel;
import io.jobstream.job.LaunchedJobStore.Unfinished;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The launched-job rows that nodes of a cluster end for one another ({@code LeftoverRuns}, {@code CrossNodeCancels},
 * {@code LostNodeJobs}), on real PostgreSQL: one final status per job however many nodes end it at once, a lost
 * node's job marked only while it is still that node's and unfinished, and the read every node makes every few
 * seconds served by the partial index of unfinished launched jobs, not a scan of every job.
 */
class PostgresJobRegistryIT {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final PostgresJobRegistry n1 = new PostgresJobRegistry(db.database().dataSource(), "n1");
    private final PostgresJobRegistry n2 = new PostgresJobRegistry(db.database().dataSource(), "n2");

    @BeforeEach
    void empty() throws SQLException {
        sql("TRUNCATE job CASCADE");
    }

    @Test
    void a_job_gets_one_final_status_however_many_nodes_end_it_at_once() throws Exception {
        long id = n1.createLaunched("j", "long.yml", null, null, CaptureLevel.FULL);
        n1.started(id);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> ends = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String status = i % 2 == 0 ? "error" : "canceled";
                Callable<Boolean> end = () -> n2.finished(id, status, "ended by " + status);
                ends.add(pool.submit(end));
            }
            int won = 0;
            for (Future<Boolean> f : ends) won += f.get() ? 1 : 0;
            assertThat(won).isEqualTo(1);
        } finally {
            pool.shutdown();
        }
        assertThat(n1.finished(id, "successful", ""))
                .as("the job's own node, later")
                .isFalse();
        assertThat(n1.unfinished(id)).isEmpty();
        assertThat(query("SELECT status || ' ' || job_explanation FROM job WHERE id = " + id))
                .isIn("error ended by error", "canceled ended by canceled");
    }

    @Test
    void a_lost_nodes_job_is_marked_while_it_is_that_nodes_and_unfinished_with_its_cancel_flag_as_it_was()
            throws Exception {
        long asked = n1.createLaunched("asked", "long.yml", null, null, CaptureLevel.FULL);
        long quiet = n1.createLaunched("quiet", "long.yml", null, null, CaptureLevel.FULL);
        n1.started(quiet);
        assertThat(n2.requestCancel(asked, "n2")).isPresent(); // a user's cancel reached n2

        assertThat(n2.markLost(asked, "n1")).contains(new Unfinished(asked, "pending", "n1", true));
        assertThat(n2.markLost(quiet, "n1")).contains(new Unfinished(quiet, "running", "n1", false));
        assertThat(n2.cancelRequested(List.of(asked, quiet)))
                .as("n1, should it be alive, cancels both")
                .containsExactly(asked, quiet);
        assertThat(n2.markLost(quiet, "n3")).as("not that node's").isEmpty();
        n2.finished(quiet, "error", "lost");
        assertThat(n2.markLost(quiet, "n1")).as("final already").isEmpty();
        assertThat(n2.markLost(424242, "n1")).as("no such job").isEmpty();
    }

    @Test
    void the_unfinished_launched_jobs_are_read_from_their_partial_index() throws Exception {
        sql("INSERT INTO job (id, name, status, launched, execution_node, finished)"
                + " SELECT g, 'done ' || g, 'successful', g % 2 = 0, 'n1', now() FROM generate_series(1, 200000) g");
        sql("SELECT setval('job_id_seq', 200000)");
        long running = n1.createLaunched("still running", "long.yml", null, null, CaptureLevel.FULL);
        n1.started(running);
        sql("ANALYZE job");

        assertThat(n2.unfinished()).containsExactly(new Unfinished(running, "running", "n1", false));
        String plan = String.join(
                "\n",
                queryAll("EXPLAIN SELECT id, status, execution_node, cancel_flag FROM job WHERE launched AND status IN"
                        + " ('new', 'pending', 'waiting', 'running') ORDER BY id"));
        assertThat(plan).contains("job_unfinished_launched_idx").doesNotContain("Seq Scan");
        assertThat(n2.unfinished(running)).isPresent();
    }

    private static void sql(String statement) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
                Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    private static String query(String select) throws SQLException {
        return queryAll(select).get(0);
    }

    private static List<String> queryAll(String select) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(select)) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) rows.add(rs.getString(1));
            return rows;
        }
    }
}
