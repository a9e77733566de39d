package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.api.EventQuery;
import io.jobstream.api.EventQuery.Field;
import io.jobstream.api.EventQuery.Filter;
import io.jobstream.api.EventQuery.Lookup;
import io.jobstream.api.EventQuery.Sort;
import io.jobstream.api.EventRow;
import io.jobstream.api.Page;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PostgresEventReaderIT {
    private static EmbeddedPostgres pg;
    private static DataSource ds;
    private static PostgresEventReader reader;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        ds = pg.getPostgresDatabase();
        Flyway.configure().dataSource(ds).load().migrate();
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE job_event_p0 PARTITION OF job_event FOR VALUES FROM (0) TO (1000)");
            s.execute("CREATE TABLE job_event_p1 PARTITION OF job_event FOR VALUES FROM (1000) TO (2000)");
            // job 7: counters 1..10, created one second apart; job 1007 in another partition shares uuids
            s.execute("INSERT INTO job_event (id, job_id, counter, uuid, event, stdout, created, modified, received)"
                    + " SELECT j * 100 + n, j, n, 'u' || n, CASE WHEN n = 5 THEN 'playbook_on_task_start'"
                    + " ELSE 'runner_on_ok' END, CASE WHEN n = 2 THEN '100% done_ok' WHEN n = 3 THEN '100x done'"
                    + " ELSE repeat('z', 50) END, timestamptz '2024-01-01T00:00:00Z' + n * interval '1 second',"
                    + " now(), now() FROM generate_series(1, 10) n, (VALUES (7), (1007)) AS jobs(j)");
        }
        reader = new PostgresEventReader(ds);
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    private static EventQuery query(Filter... filters) {
        return new EventQuery(List.of(filters), List.of(new Sort(Field.COUNTER, false)), 0, 200, true, 0);
    }

    private static List<Integer> counters(Page<EventRow> page) {
        List<Integer> out = new ArrayList<>();
        page.rows().forEach(e -> out.add(e.counter()));
        return out;
    }

    @Test
    void lists_only_the_asked_jobs_events_with_their_count() {
        Page<EventRow> page = reader.list(7, query(Filter.exact(Field.UUID, "u3")));
        assertThat(counters(page)).containsExactly(3);
        assertThat(page.count()).isEqualTo(1);
        assertThat(page.rows().get(0).jobId()).isEqualTo(7);
    }

    @Test
    void like_wildcards_in_client_text_are_literal() {
        assertThat(counters(
                        reader.list(7, query(new Filter(Field.STDOUT, Lookup.ICONTAINS, false, List.of("0% DONE_"))))))
                .containsExactly(2);
        assertThat(counters(reader.list(7, query(new Filter(Field.STDOUT, Lookup.STARTSWITH, false, List.of("100"))))))
                .containsExactly(2, 3);
        assertThat(counters(reader.list(7, query(new Filter(Field.STDOUT, Lookup.ENDSWITH, false, List.of("_ok"))))))
                .containsExactly(2);
    }

    @Test
    void negation_in_lists_and_timestamp_comparisons_work() {
        assertThat(counters(reader.list(
                        7,
                        query(
                                new Filter(Field.COUNTER, Lookup.IN, true, List.of(1L, 2L, 3L)),
                                new Filter(
                                        Field.CREATED,
                                        Lookup.LT,
                                        false,
                                        List.of(Instant.parse("2024-01-01T00:00:06Z")))))))
                .containsExactly(4, 5);
    }

    @Test
    void a_stdout_prefix_cuts_only_non_playbook_on_events() {
        EventQuery q = new EventQuery(List.of(), List.of(new Sort(Field.COUNTER, false)), 3, 2, false, 10);
        Page<EventRow> page = reader.list(7, q);
        assertThat(page.count()).isNull();
        assertThat(page.rows()).extracting(EventRow::stdout).containsExactly("z".repeat(10), "z".repeat(50));
    }

    @Test
    void the_tree_walk_goes_in_counter_order_and_stops_when_asked() {
        List<Integer> seen = new ArrayList<>();
        reader.visitTree(7, (counter, uuid, parent, event) -> {
            seen.add(counter);
            return counter < 4;
        });
        assertThat(seen).containsExactly(1, 2, 3, 4);
    }

    @Test
    void find_reads_one_event_by_id() {
        assertThat(reader.find(100_705)).hasValueSatisfying(e -> {
            assertThat(e.jobId()).isEqualTo(1007);
            assertThat(e.event()).isEqualTo("playbook_on_task_start");
            assertThat(e.created()).isEqualTo(Instant.parse("2024-01-01T00:00:05Z"));
        });
        assertThat(reader.find(1)).isEmpty();
    }

    @Test
    void stdout_length_and_copy_read_the_job_in_counter_order() throws Exception {
        PostgresStdout stdout = new PostgresStdout(ds);
        assertThat(stdout.length(7)).isEqualTo(8 * 50 + 12 + 9);
        List<String> texts = new ArrayList<>();
        stdout.copy(7, texts::add);
        assertThat(texts).hasSize(10).element(1).isEqualTo("100% done_ok");
    }
}
