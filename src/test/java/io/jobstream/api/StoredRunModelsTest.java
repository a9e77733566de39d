package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The failure cases of {@link StoredRunModels} that PostgreSQL does not produce on demand: a store that fails to
 * read or to write never fails a request (the model is built from the rows, the failure counted), and a row whose
 * counts disagree with its blob is refused as corrupt. (The store itself, restarts, second nodes, late events and
 * damaged blobs on real PostgreSQL: {@code RunModelStoreIT}.)
 */
class StoredRunModelsTest {
    /** A run of one task on two hosts: 3 rows. */
    private static final RunReader ROWS = new RunReader() {
        @Override
        public void visit(long jobId, int after, Consumer<RunRow> visitor) {
            if (after < 1)
                visitor.accept(new RunRow(1, "playbook_on_task_start", "", "t", "p", "task", false, false, 1));
            if (after < 2) visitor.accept(new RunRow(2, "runner_on_ok", "a", "t", "", "", false, false, 2));
            if (after < 3) visitor.accept(new RunRow(3, "runner_on_ok", "b", "t", "", "", true, false, 3));
        }

        @Override
        public Optional<Stats> stats(long jobId) {
            return Optional.empty();
        }
    };

    private static JobView finished(long id) {
        return new JobView(
                id,
                "j",
                "p",
                "successful",
                false,
                null,
                null,
                null,
                null,
                "",
                3,
                3,
                3,
                true,
                null,
                1,
                1,
                null,
                null,
                "full",
                0,
                0,
                false,
                "");
    }

    private static double count(SimpleMeterRegistry r, String outcome) {
        var c = r.find("analysis.models.store").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void a_store_that_fails_to_read_or_write_never_fails_a_request() throws Exception {
        RunModelStore broken = new RunModelStore() {
            @Override
            public Optional<Stored> find(long jobId) {
                throw new ReadException("the database is gone", null);
            }

            @Override
            public boolean save(long jobId, int format, int rows, int maxCounter, byte[] model) {
                throw new ReadException("the database is gone", null);
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StoredRunModels stored = new StoredRunModels(broken, registry)) {
            RunCache cache = new RunCache(ROWS, stored, 1000);
            int hosts = cache.with(finished(1), m -> m.hosts().size());
            assertThat(hosts).isEqualTo(2);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (count(registry, "failed") < 2 && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(count(registry, "failed")).as("the read and the write").isEqualTo(2);
            assertThat(registry.find("analysis.models.made")
                            .tag("source", "rows")
                            .counter()
                            .count())
                    .isEqualTo(1);
        }
    }

    @Test
    void a_row_whose_counts_disagree_with_its_blob_is_corrupt_and_the_model_is_built_from_the_rows() {
        RunModel m = new RunModel();
        ROWS.visit(7, 0, m);
        byte[] blob = RunModelCodec.encode(m);
        RunModelStore lying = new RunModelStore() {
            @Override
            public Optional<Stored> find(long jobId) {
                return Optional.of(new Stored(RunModelCodec.VERSION, 2, 3, blob)); // the blob has 3 rows
            }

            @Override
            public boolean save(long jobId, int format, int rows, int maxCounter, byte[] model) {
                return true;
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StoredRunModels stored = new StoredRunModels(lying, registry)) {
            assertThat(stored.load(finished(7))).isNull();
            assertThat(count(registry, "corrupt")).isEqualTo(1);
            JobView running = new JobView(
                    8, "j", "p", "running", false, null, null, null, null, "", 0, null, 3, false, null, 1, 1, null,
                    null, "full", 0, 0, false, "");
            assertThat(stored.load(running))
                    .as("a running job's is not looked for")
                    .isNull();
            assertThat(count(registry, "missing") + count(registry, "loaded")).isZero();
        }
    }
}
