package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.JobEof;
import io.jobstream.event.JobMessage;
import io.jobstream.persist.WriteResult.Outcome;
import io.jobstream.storage.CleanupRequest;
import io.jobstream.storage.CleanupResult;
import io.jobstream.storage.StorageReport;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 17: retention on a real PostgreSQL. Each test uses its own blocks of 1000 job ids, so they share one database.
 * Jobs are finished by their EOF (as ingest finishes them) and then made old by moving {@code finished} back.
 */
class PostgresRetentionIT {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final Duration WEEK = Duration.ofDays(7);

    private final List<String> progress = new ArrayList<>();

    @BeforeEach
    void empty() throws SQLException {
        sql("TRUNCATE job, job_event, parked_message CASCADE");
    }

    /** Stores {@code events} events of {@code job} and, when {@code finish}, its EOF; returns nothing stored twice. */
    private static void job(long job, int events, boolean finish) {
        List<JobMessage> batch = new ArrayList<>();
        for (int c = 1; c <= events; c++) {
            batch.add(PostgresEventStoreIT.event(job, c, "runner_on_ok", "line " + c + " of job " + job));
            if (batch.size() == 2000) {
                assertThat(db.store().write(batch).outcomes()).containsOnly(Outcome.STORED);
                batch.clear();
            }
        }
        if (finish) batch.add(new JobEof(job, events));
        if (!batch.isEmpty()) assertThat(db.store().write(batch).outcomes()).containsOnly(Outcome.STORED);
    }

    private static void finishedAgo(Duration ago, long... jobs) throws SQLException {
        for (long job : jobs)
            sql("UPDATE job SET finished = now() - interval '" + ago.toSeconds() + " seconds'" + " WHERE id = " + job);
    }

    private static long sql(String statement) throws SQLException {
        try (Connection c = db.database().dataSource().getConnection();
                Statement s = c.createStatement()) {
            if (s.execute(statement)) {
                try (ResultSet rs = s.getResultSet()) {
                    return rs.next() ? rs.getLong(1) : -1;
                }
            }
            return s.getUpdateCount();
        }
    }

    private static long events(long job) throws SQLException {
        return sql("SELECT count(*) FROM job_event WHERE job_id = " + job);
    }

    /** The job's rows in the search and run-analysis index (V6), written with its events. */
    private static long indexRows(long job) throws SQLException {
        return sql("SELECT count(*) FROM job_event_index WHERE job_id = " + job);
    }

    private static boolean partitionExists(String name) throws SQLException {
        return sql("SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass('" + name + "')") == 1;
    }

    private CleanupResult clean(PostgresRetention retention, Duration events, Duration jobs, boolean dry) {
        Optional<CleanupResult> r =
                retention.clean(new CleanupRequest(events, jobs, dry), Instant.now(), progress::add);
        assertThat(r).as("the cleanup lock was free").isPresent();
        return r.get();
    }

    @Test
    void a_block_whose_jobs_all_expired_is_truncated_whole_and_its_jobs_keep_their_summary() throws SQLException {
        job(5000, 30, true);
        job(5001, 20, true);
        job(5999, 10, true);
        job(6000, 5, false); // running: never touched
        finishedAgo(Duration.ofDays(10), 5000, 5001, 5999);
        sql("UPDATE job SET host_status_counts = '{\"ok\": {\"h\": 1}}' WHERE id = 5000");
        long hostCountsBefore = sql("SELECT count(*) FROM job WHERE id = 5000 AND host_status_counts IS NOT NULL");

        CleanupResult r = clean(new PostgresRetention(db.database().dataSource(), 5000), WEEK, Duration.ZERO, false);

        assertThat(r.partitionsTruncated()).containsExactly("job_event_p5");
        assertThat(r.jobsEventsExpired()).isEqualTo(3);
        assertThat(r.eventsDeleted()).isEqualTo(60);
        assertThat(r.batches()).as("no row-by-row delete for a whole block").isZero();
        assertThat(events(5000) + events(5001) + events(5999)).isZero();
        assertThat(indexRows(5000) + indexRows(5001) + indexRows(5999))
                .as("their index rows go too")
                .isZero();
        assertThat(events(6000)).isEqualTo(5);
        assertThat(indexRows(6000)).isEqualTo(5);
        assertThat(sql("SELECT count(*) FROM job WHERE id IN (5000, 5001, 5999) AND events_expired"
                        + " AND stored_events > 0 AND status = 'successful'"))
                .as("rows stay, with their counts")
                .isEqualTo(3);
        assertThat(sql("SELECT count(*) FROM job WHERE id = 5000 AND host_status_counts IS NOT NULL"))
                .isEqualTo(hostCountsBefore);
        assertThat(sql("SELECT count(*) FROM job WHERE id = 6000 AND NOT events_expired AND status = 'running'"))
                .isEqualTo(1);
        assertThat(partitionExists("job_event_p5"))
                .as("kept: its jobs' rows stay")
                .isTrue();
    }

    @Test
    void an_event_that_arrives_after_its_jobs_events_expired_is_deleted_by_the_next_cleanup() throws SQLException {
        job(15000, 20, true);
        job(15001, 1, false);
        finishedAgo(Duration.ofDays(10), 15000);
        PostgresRetention retention = new PostgresRetention(db.database().dataSource(), 5000);
        clean(retention, WEEK, Duration.ZERO, false);
        assertThat(events(15000)).isZero();

        // an emitter redelivers an old event, to a node that does not remember storing it (a fresh store)
        new PostgresEventStore(db.database().dataSource(), Clock.systemUTC())
                .write(List.of(PostgresEventStoreIT.event(15000, 7, "runner_on_ok", "late")));
        assertThat(events(15000)).isEqualTo(1);
        assertThat(sql("SELECT count(*) FROM job WHERE id = 15000 AND NOT events_expired"))
                .as("it has an event again")
                .isEqualTo(1);

        CleanupResult again = clean(retention, WEEK, Duration.ZERO, false);
        assertThat(again.jobsEventsExpired()).isEqualTo(1);
        assertThat(events(15000)).isZero();
        assertThat(sql("SELECT count(*) FROM job WHERE id = 15000 AND events_expired"))
                .isEqualTo(1);
    }

    @Test
    void expired_jobs_sharing_a_block_with_others_are_deleted_in_small_batches() throws SQLException {
        job(7000, 2500, true);
        job(7001, 10, false); // running
        job(7002, 10, true); // finished recently: stays
        finishedAgo(Duration.ofDays(30), 7000);

        CleanupResult r = clean(new PostgresRetention(db.database().dataSource(), 1000), WEEK, Duration.ZERO, false);

        assertThat(r.partitionsTruncated()).doesNotContain("job_event_p7");
        assertThat(r.batches()).as("2500 rows, 1000 a batch").isEqualTo(3);
        assertThat(events(7000)).isZero();
        assertThat(indexRows(7000)).isZero();
        assertThat(events(7001)).isEqualTo(10);
        assertThat(events(7002)).isEqualTo(10);
        assertThat(indexRows(7001) + indexRows(7002)).isEqualTo(20);
        assertThat(sql("SELECT stored_events FROM job WHERE id = 7000 AND events_expired"))
                .isEqualTo(2500);
        assertThat(sql("SELECT count(*) FROM job WHERE id IN (7001, 7002) AND events_expired"))
                .isZero();
    }

    @Test
    void a_dry_run_says_what_would_go_and_deletes_nothing() throws SQLException {
        job(8000, 40, true);
        job(8001, 40, true);
        job(9000, 25, true);
        job(9001, 1, false);
        finishedAgo(Duration.ofDays(400), 8000, 8001, 9000);
        PostgresRetention retention = new PostgresRetention(db.database().dataSource(), 10);

        CleanupResult dry = clean(retention, WEEK, Duration.ofDays(365), true);

        assertThat(dry.dryRun()).isTrue();
        assertThat(dry.partitionsTruncated()).contains("job_event_p8").doesNotContain("job_event_p9");
        assertThat(dry.jobsDeleted()).isEqualTo(3);
        assertThat(dry.eventsDeleted()).isEqualTo(105);
        assertThat(dry.batches()).as("job 9000 alone in batches of 10").isEqualTo(3);
        assertThat(events(8000) + events(8001) + events(9000)).isEqualTo(105);
        assertThat(sql("SELECT count(*) FROM job WHERE id IN (8000, 8001, 9000) AND NOT events_expired"))
                .isEqualTo(3);
        assertThat(progress).anyMatch(l -> l.startsWith("would truncate job_event_p8"));
    }

    @Test
    void whole_jobs_go_with_their_partition_and_a_new_job_in_that_block_gets_a_partition_again() throws SQLException {
        job(11000, 30, true);
        job(11001, 30, true);
        job(12000, 3, false);
        finishedAgo(Duration.ofDays(400), 11000, 11001);

        CleanupResult r = clean(
                new PostgresRetention(db.database().dataSource(), 5000), Duration.ZERO, Duration.ofDays(365), false);

        assertThat(r.partitionsDropped()).contains("job_event_p11");
        assertThat(r.jobsDeleted()).isEqualTo(2);
        assertThat(partitionExists("job_event_p11")).isFalse();
        assertThat(sql("SELECT count(*) FROM job WHERE id IN (11000, 11001)")).isZero();
        assertThat(events(12000)).isEqualTo(3);
        // the store had made p11 itself: it finds it gone, makes it again and stores, parking nothing
        job(11002, 4, false);
        assertThat(events(11002)).isEqualTo(4);
        assertThat(sql("SELECT count(*) FROM parked_message WHERE job_id = 11002"))
                .isZero();
    }

    @Test
    void a_partition_someone_is_reading_is_not_waited_for_its_jobs_go_in_batches_instead() throws Exception {
        job(14000, 50, true);
        job(14001, 50, true);
        finishedAgo(Duration.ofDays(10), 14000, 14001);
        try (Connection reader = db.database().dataSource().getConnection();
                Statement s = reader.createStatement()) {
            reader.setAutoCommit(false); // a long read of that partition, holding its ACCESS SHARE lock
            s.executeQuery("SELECT count(*) FROM job_event_p14").close();
            long t0 = System.nanoTime();

            CleanupResult r = clean(new PostgresRetention(db.database().dataSource(), 20), WEEK, Duration.ZERO, false);

            long waitedMillis = (System.nanoTime() - t0) / 1_000_000;
            reader.rollback();
            assertThat(r.partitionsTruncated()).isEmpty();
            assertThat(r.batches()).as("50 + 50 rows, 20 a batch").isEqualTo(6);
            assertThat(progress).anyMatch(l -> l.contains("job_event_p14 is busy"));
            assertThat(waitedMillis)
                    .as("gave up on the lock instead of queueing behind the reader")
                    .isLessThan(30_000);
        }
        assertThat(events(14000) + events(14001)).isZero();
        assertThat(sql("SELECT count(*) FROM job WHERE id IN (14000, 14001) AND events_expired"))
                .isEqualTo(2);
    }

    @Test
    void upgrading_to_v4_counts_the_bytes_of_jobs_stored_before_it() throws SQLException {
        // a database as V3 left it, in a schema of its own
        sql("CREATE SCHEMA v3");
        try {
            Flyway.configure()
                    .dataSource(db.database().dataSource())
                    .schemas("v3")
                    .locations("classpath:db/migration")
                    .target("3")
                    .load()
                    .migrate();
            sql("INSERT INTO v3.job (id, status) VALUES (1, 'successful'), (2, 'running')");
            sql("CREATE TABLE v3.job_event_p0 PARTITION OF v3.job_event FOR VALUES FROM (0) TO (1000)");
            sql("INSERT INTO v3.job_event (id, job_id, counter, event, event_data, stdout, created, modified, received)"
                    + " SELECT c, 1, c, 'runner_on_ok', '{\"é\":1}', 'line ' || c, now(), now(), now()"
                    + " FROM generate_series(1, 25) c");

            Flyway.configure()
                    .dataSource(db.database().dataSource())
                    .schemas("v3")
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();

            assertThat(sql("SELECT stored_bytes FROM v3.job WHERE id = 1"))
                    .isEqualTo(sql("SELECT sum(octet_length(stdout) + octet_length(event_data)) FROM v3.job_event"));
            assertThat(sql("SELECT stored_bytes FROM v3.job WHERE id = 2")).isZero();
            assertThat(sql("SELECT count(*) FROM v3.job WHERE events_expired")).isZero();
        } finally {
            sql("DROP SCHEMA v3 CASCADE");
        }
    }

    @Test
    void one_cleanup_at_a_time_over_every_node() throws SQLException {
        PostgresRetention retention = new PostgresRetention(db.database().dataSource(), 5000);
        try (Connection other = db.database().dataSource().getConnection();
                Statement s = other.createStatement()) {
            s.execute("SELECT pg_advisory_lock(" + PostgresRetention.LOCK_KEY + ")"); // another node's cleanup
            assertThat(retention.clean(new CleanupRequest(WEEK, Duration.ZERO, false), Instant.now(), progress::add))
                    .isEmpty();
            s.execute("SELECT pg_advisory_unlock(" + PostgresRetention.LOCK_KEY + ")");
        }
        assertThat(retention.clean(new CleanupRequest(WEEK, Duration.ZERO, true), Instant.now(), progress::add))
                .isPresent();
    }

    @Test
    void the_storage_report_sums_partitions_and_names_the_largest_jobs_and_playbooks() throws SQLException {
        job(13000, 300, true);
        job(13001, 5, true);
        StorageReport report = new PostgresStorage(db.database().dataSource(), Clock.systemUTC()).report(5);

        StorageReport.Table events = report.tables().stream()
                .filter(t -> t.name().equals("job_event"))
                .findFirst()
                .orElseThrow();
        assertThat(events.partitions()).extracting(StorageReport.Table::name).contains("job_event_p13");
        assertThat(events.rows()).isEqualTo(sql("SELECT count(*) FROM job_event"));
        assertThat(events.bytes())
                .isEqualTo(events.partitions().stream()
                        .mapToLong(StorageReport.Table::bytes)
                        .sum())
                .isPositive();
        assertThat(report.tables()).extracting(StorageReport.Table::name).contains("job", "parked_message");
        assertThat(report.largestJobs()).isNotEmpty();
        StorageReport.Job biggest = report.largestJobs().stream()
                .filter(j -> j.id() == 13000)
                .findFirst()
                .orElseThrow();
        assertThat(biggest.events()).isEqualTo(300);
        assertThat(biggest.bytes())
                .as("stdout + event_data as stored")
                .isEqualTo(sql("SELECT sum(octet_length(stdout) + octet_length(event_data)) FROM job_event"
                        + " WHERE job_id = 13000"));
        assertThat(biggest.playbook()).as("from its events").isEqualTo("pb.yml");
        assertThat(report.largestPlaybooks())
                .extracting(StorageReport.Playbook::playbook)
                .contains("pb.yml");
        assertThat(report.oldestEvent()).isNotNull();
        assertThat(report.databaseBytes()).isGreaterThan(report.totalBytes() / 2);
    }

    /** Issue 19: a job's stored run model (V8) goes with its events, whichever way they go, and with the job. */
    @Test
    void a_stored_run_model_goes_with_its_jobs_events_and_with_the_job() throws SQLException {
        job(17000, 30, true);
        job(17001, 20, true);
        job(17002, 5, false); // running: its block is emptied job by job
        job(18000, 10, true); // alone in its block: truncated whole
        finishedAgo(Duration.ofDays(10), 17000, 18000);
        PostgresRunModelStore store = new PostgresRunModelStore(db.database().dataSource());
        byte[] blob = {1, 2, 3};
        assertThat(store.save(17000, 1, 30, 30, blob)).isTrue();
        assertThat(store.save(17001, 1, 20, 20, blob)).isTrue();
        assertThat(store.save(18000, 1, 10, 10, blob)).isTrue();
        assertThat(store.save(17002, 1, 5, 5, blob))
                .as("a running job's is not stored")
                .isFalse();
        assertThat(store.save(17001, 1, 19, 19, blob))
                .as("a model the job has outgrown")
                .isFalse();
        assertThat(store.save(99999, 1, 0, 0, blob)).as("no such job").isFalse();
        assertThat(store.find(17001).orElseThrow().rows())
                .as("the refused save left the row")
                .isEqualTo(20);

        CleanupResult r = clean(new PostgresRetention(db.database().dataSource(), 1000), WEEK, Duration.ZERO, false);

        assertThat(r.partitionsTruncated()).contains("job_event_p18");
        assertThat(store.find(17000)).as("expired job by job").isEmpty();
        assertThat(store.find(18000)).as("expired with its partition").isEmpty();
        assertThat(store.find(17001)).as("not expired").isPresent();
        assertThat(store.save(17000, 1, 30, 30, blob))
                .as("an expired job's is not stored")
                .isFalse();

        finishedAgo(Duration.ofDays(400), 17001);
        clean(new PostgresRetention(db.database().dataSource(), 1000), WEEK, Duration.ofDays(365), false);
        assertThat(sql("SELECT count(*) FROM job WHERE id = 17001")).isZero();
        assertThat(store.find(17001)).as("deleted with the job").isEmpty();
        assertThat(sql("SELECT count(*) FROM job_run_model")).isZero();
    }
}
