package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stored form of a run model ({@link RunModelCodec}): read back, a model is the one that was written, field by
 * field, and goes on taking rows as the original does (its task index, ordinals and host set restored); a damaged,
 * cut or foreign blob, or one of another format version, is refused as {@link RunModelCodec.Unreadable}, never
 * read as a different model.
 */
class RunModelCodecTest {
    private int counter;

    private RunRow start(String uuid, String play, String task, long micros) {
        return new RunRow(++counter, "playbook_on_task_start", "", uuid, play, task, false, false, micros);
    }

    private RunRow host(String event, String host, String uuid, boolean changed, boolean failed, long micros) {
        return new RunRow(++counter, event, host, uuid, "", "", changed, failed, micros);
    }

    /** Every shape the model keeps: repeated names, an empty uuid, a restarted task, odd names and times. */
    private List<RunRow> rows() {
        List<RunRow> rows = new ArrayList<>();
        long t0 = 1_780_000_000_000_000L;
        rows.add(start("u1", "play ✓", "setup", t0));
        for (int h = 0; h < 50; h++) {
            String name = h == 7 ? "host\u0000with\nodd ✗ name" : "host-" + h;
            rows.add(host("runner_on_start", name, "u1", false, false, t0 + h * 1000));
            if (h % 5 != 4) // some hosts never finish
            rows.add(host(
                    h % 3 == 0 ? "runner_on_failed" : "runner_on_ok",
                    name,
                    "u1",
                    h % 2 == 0,
                    h % 6 == 0,
                    t0 + 5_000_000 + h * 7777));
        }
        rows.add(start("u2", "play ✓", "setup", t0 + 9_000_000)); // same name again: ordinal 2
        rows.add(host("runner_on_skipped", "host-1", "u2", false, false, t0 + 9_100_000));
        rows.add(host("runner_on_unreachable", "host-2", "u2", false, false, -5)); // no start, odd clock
        rows.add(start("", "", "", t0 + 10_000_000)); // a task without uuid
        rows.add(start("u1", "play ✓", "setup", t0 + 11_000_000)); // a restart: the first counts
        rows.add(host("runner_on_async_ok", "host-3", "u1", true, false, Long.MAX_VALUE / 4));
        rows.add(host("playbook_on_stats", "", "", false, false, t0 + 12_000_000));
        return rows;
    }

    private static RunModel model(List<RunRow> rows) {
        RunModel m = new RunModel();
        rows.forEach(m);
        return m;
    }

    @Test
    void a_model_reads_back_as_written_and_goes_on_taking_rows_as_the_original() throws Exception {
        RunModel m = model(rows());
        RunModel back = RunModelCodec.decode(RunModelCodec.encode(m));
        assertThat(RunModelDump.dump(back)).isEqualTo(RunModelDump.dump(m));

        List<RunRow> more = List.of(
                start("u3", "play ✓", "setup", 5), // a third of the same name: ordinal 3 on both
                host("runner_on_ok", "host-4", "u2", true, false, 6), // a result for a restored task
                host("runner_on_ok", "new-host", "u3", false, false, 7));
        more.forEach(m);
        more.forEach(back);
        assertThat(RunModelDump.dump(back)).isEqualTo(RunModelDump.dump(m));
        assertThat(back.hosts()).contains("new-host", "host-4");
        assertThat(back.tasks().get(back.tasks().size() - 1).ordinal).isEqualTo(3);
    }

    @Test
    void an_empty_model_reads_back_empty() throws Exception {
        assertThat(RunModelDump.dump(RunModelCodec.decode(RunModelCodec.encode(new RunModel()))))
                .isEqualTo(RunModelDump.dump(new RunModel()));
    }

    @Test
    void a_damaged_blob_is_refused_or_reads_as_the_same_model_never_as_another() {
        RunModel m = model(rows());
        String expected = RunModelDump.dump(m);
        byte[] blob = RunModelCodec.encode(m);
        Random random = new Random(19);
        int refused = 0;
        for (int i = 0; i < blob.length; i++) {
            for (int bit = 0; bit < 8; bit += 3) {
                byte[] bad = blob.clone();
                bad[i] ^= (byte) (1 << bit);
                try {
                    // only gzip's unchecked header fields (mtime, flags, OS) may change without changing the model
                    assertThat(RunModelDump.dump(RunModelCodec.decode(bad)))
                            .as("byte %d bit %d", i, bit)
                            .isEqualTo(expected);
                } catch (RunModelCodec.Unreadable e) {
                    refused++;
                }
            }
            byte[] cut = Arrays.copyOf(blob, i); // every prefix is cut short
            assertThatThrownBy(() -> RunModelCodec.decode(cut)).isInstanceOf(RunModelCodec.Unreadable.class);
        }
        assertThat(refused).isGreaterThan(blob.length * 2);
        for (int n = 0; n < 200; n++) {
            byte[] noise = new byte[random.nextInt(4096)];
            random.nextBytes(noise);
            if (noise.length > 6) System.arraycopy(blob, 0, noise, 0, 6); // a sound header, then noise
            assertThatThrownBy(() -> RunModelCodec.decode(noise)).isInstanceOf(RunModelCodec.Unreadable.class);
        }
        // bytes after the gzip stream: GZIPInputStream takes them for a next member and drops them as garbage; the
        // model read is the one written (what matters: never another)
        byte[] longer = Arrays.copyOf(blob, blob.length + 1);
        try {
            assertThat(RunModelDump.dump(RunModelCodec.decode(longer))).isEqualTo(expected);
        } catch (RunModelCodec.Unreadable e) {
            // as good
        }
    }

    @Test
    void a_blob_of_another_format_version_is_refused_as_old() {
        byte[] blob = RunModelCodec.encode(model(rows()));
        blob[5] = (byte) (RunModelCodec.VERSION + 1);
        assertThatThrownBy(() -> RunModelCodec.decode(blob))
                .isInstanceOfSatisfying(
                        RunModelCodec.Unreadable.class,
                        e -> assertThat(e.oldVersion).isTrue());
        assertThatThrownBy(() -> RunModelCodec.decode(null)).isInstanceOf(RunModelCodec.Unreadable.class);
    }
}
