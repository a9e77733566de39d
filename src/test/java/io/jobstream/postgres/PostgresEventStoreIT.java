package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.persist.WriteResult;
import io.jobstream.persist.WriteResult.Outcome;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The binary-COPY store against a real (embedded) PostgreSQL: rows, columns, partitions, poison and COPY chunks. What
 * every store promises is in {@link PostgresEventStoreContractIT}.
 */
class PostgresEventStoreIT {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static JobEvent event(long job, int counter, String event, String stdout) {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        return new JobEvent(
                job,
                counter,
                "uuid-" + counter,
                "",
                event,
                "{\"k\":\"\\u00e9\"}",
                stdout,
                counter - 1,
                counter,
                0,
                "host",
                "pb.yml",
                "play",
                "",
                "task",
                false,
                false,
                now,
                false,
                now);
    }

    @Test
    void a_batch_of_new_events_is_stored_with_every_column_intact() throws SQLException {
        String stdout = "\u001b[0;32mok: [h\u00e9]\u001b[0m\r\n\ttab \\ backslash";
        WriteResult r =
                db.store().write(List.of(event(1, 1, "playbook_on_start", stdout), event(1, 2, "runner_on_ok", "x")));
        assertThat(r.outcomes()).containsExactly(Outcome.STORED, Outcome.STORED);
        assertThat(r.committed().events()).extracting(e -> e.event().counter()).containsExactly(1, 2);
        assertThat(r.committed().events().get(0).id())
                .isNotEqualTo(r.committed().events().get(1).id());
        try (Connection c = db.database().dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT stdout, event_data, created, uuid, id FROM job_event WHERE job_id = 1 AND counter = 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(stdout);
            assertThat(rs.getString(2)).isEqualTo("{\"k\":\"\\u00e9\"}");
            assertThat(rs.getTimestamp(3).toInstant()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
            assertThat(rs.getString(4)).isEqualTo("uuid-1");
            assertThat(rs.getLong(5)).isEqualTo(r.committed().events().get(0).id());
        }
    }

    @Test
    void redelivered_events_leave_one_row_each_and_the_jobs_count_right() throws SQLException {
        // outcomes are EventStoreContract's; here, what the rows say after the de-duplicating path
        db.store().write(List.of(event(2, 1, "verbose", "a"), event(2, 2, "verbose", "b")));
        PostgresEventStore fresh = new PostgresEventStore(db.database().dataSource(), Clock.systemUTC());
        fresh.write(List.of(
                event(2, 2, "verbose", "b"),
                event(2, 3, "verbose", "c"),
                event(2, 3, "verbose", "c"),
                event(2, 1, "verbose", "a")));
        assertThat(count("SELECT count(*) FROM job_event WHERE job_id = 2")).isEqualTo(3);
        assertThat(count("SELECT stored_events FROM job WHERE id = 2")).isEqualTo(3);
    }

    @Test
    void a_jobs_stored_bytes_are_the_octet_lengths_of_its_rows_also_after_the_de_duplicating_path()
            throws SQLException {
        // the sizes come from the COPY's own encoding now: multi-byte text (2, 3 and 4 bytes a character) must
        // count as PostgreSQL stores it, on the fast path and when a duplicate sends the batch through copyNew
        db.store().write(List.of(event(8, 1, "verbose", "h\u00e9 \u20ac"), event(8, 2, "verbose", "\ud83d\ude00 x")));
        PostgresEventStore fresh = new PostgresEventStore(db.database().dataSource(), Clock.systemUTC());
        fresh.write(List.of(
                event(8, 2, "verbose", "\ud83d\ude00 x"),
                event(8, 3, "verbose", "\u00e9\u00e9\u00e9"),
                event(8, 4, "verbose", "")));
        assertThat(count("SELECT stored_bytes FROM job WHERE id = 8"))
                .isEqualTo(count("SELECT sum(octet_length(stdout) + octet_length(event_data)) FROM job_event"
                        + " WHERE job_id = 8"))
                .isEqualTo(4 * 14 + 7 + 6 + 6);
    }

    @Test
    void a_batch_that_switches_between_jobs_counts_each_jobs_events_on_its_own_row() throws SQLException {
        // JobRows keeps the last job's accumulator for runs of one job: a switch back must find the right one
        db.store()
                .write(List.of(
                        event(91, 1, "playbook_on_task_start", "a"),
                        event(91, 2, "verbose", "b"),
                        event(92, 1, "verbose", "c"),
                        event(91, 3, "playbook_on_task_start", "d"),
                        event(92, 2, "verbose", "e"),
                        event(92, 3, "verbose", "f")));
        assertThat(count("SELECT stored_events FROM job WHERE id = 91")).isEqualTo(3);
        assertThat(count("SELECT task_count FROM job WHERE id = 91")).isEqualTo(2);
        assertThat(count("SELECT stored_events FROM job WHERE id = 92")).isEqualTo(3);
        assertThat(count("SELECT task_count FROM job WHERE id = 92")).isZero();
    }

    @Test
    void a_finished_jobs_row_holds_its_bookkeeping() throws SQLException {
        // the reported changes are EventStoreContract's; here, the job row's columns
        db.store().write(List.of(event(3, 1, "playbook_on_start", ""), new JobEof(3, 3)));
        db.store().write(List.of(event(3, 3, "playbook_on_stats", ""), event(3, 2, "playbook_on_task_start", "")));
        assertThat(
                        count(
                                "SELECT count(*) FROM job WHERE id = 3 AND event_processing_finished AND status = 'successful'"
                                        + " AND task_count = 1 AND emitted_events = 3 AND finished IS NOT NULL AND host_status_counts = '{}'"))
                .isEqualTo(1);
    }

    @Test
    void jobs_far_apart_get_their_own_partitions() throws SQLException {
        db.store().write(List.of(event(5_500, 1, "verbose", "a"), event(123_456, 1, "verbose", "b")));
        assertThat(count("SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        + " WHERE c.relname IN ('job_event_p5', 'job_event_p123')"))
                .isEqualTo(2);
    }

    @Test
    void a_poison_event_is_parked_and_its_neighbours_are_stored() throws SQLException {
        List<JobMessage> batch = new ArrayList<>();
        for (int i = 1; i <= 9; i++) batch.add(event(7, i, "verbose", "line " + i));
        // The decoder never lets a NUL into a text column, so build the event directly: PostgreSQL refuses NUL in
        // text with a data error, which must park this event alone.
        JobEvent e = event(7, 10, "verbose", "poison");
        batch.add(
                4,
                new JobEvent(
                        7,
                        10,
                        "nul\0uuid",
                        "",
                        "verbose",
                        "{}",
                        "poison",
                        0,
                        0,
                        0,
                        "",
                        "",
                        "",
                        "",
                        "",
                        false,
                        false,
                        e.created(),
                        false,
                        e.received()));
        WriteResult r = db.store().write(batch);
        assertThat(r.outcomes().get(4)).isEqualTo(Outcome.PARKED);
        assertThat(r.parkReasons().get(4)).startsWith("could not be stored:");
        assertThat(r.outcomes()).filteredOn(o -> o == Outcome.STORED).hasSize(9);
        assertThat(count("SELECT count(*) FROM job_event WHERE job_id = 7")).isEqualTo(9);
        assertThat(count("SELECT count(*) FROM parked_message WHERE job_id = 7 AND counter = 10"))
                .isEqualTo(1);
    }

    @Test
    void a_large_batch_streams_through_copy_in_chunks() throws SQLException {
        List<JobMessage> batch = new ArrayList<>();
        String line = "y".repeat(2000);
        for (int i = 1; i <= 3000; i++) batch.add(event(9, i, "verbose", line));
        WriteResult r = db.store().write(batch);
        assertThat(r.committed().events()).hasSize(3000);
        assertThat(count("SELECT sum(length(stdout)) / 1000 FROM job_event WHERE job_id = 9"))
                .isEqualTo(6000);
    }

    @Test
    void row_ids_stay_unique_and_increasing_across_batches_that_span_several_id_blocks() throws SQLException {
        List<Long> ids = new ArrayList<>();
        int counter = 0;
        for (int size : new int[] {2500, 1, 700, 1800}) { // blocks of 1000: fetched several at once, then used up
            List<JobMessage> batch = new ArrayList<>();
            for (int i = 0; i < size; i++) batch.add(event(11, ++counter, "verbose", "z"));
            db.store().write(batch).committed().events().forEach(e -> ids.add(e.id()));
        }
        assertThat(ids).hasSize(5001).doesNotHaveDuplicates().isSorted();
        assertThat(count("SELECT count(DISTINCT id) FROM job_event WHERE job_id = 11"))
                .isEqualTo(5001);
        assertThat(count("SELECT stored_events FROM job WHERE id = 11")).isEqualTo(5001);
    }

    private static long count(String sql) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
