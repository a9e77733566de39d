package io.jobstream.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Reading PGCOPY rows as PostgreSQL sends them to {@code COPY … TO STDOUT (FORMAT binary)} (one CopyData message per
 * row, the header with the first), written here by the receiver's own encoder, {@link BinaryCopyBuffer}. The
 * real server's messages are read by {@code RunAnalysisIT} and {@code RunModelsIT} through {@link PostgresRunReader}.
 */
class BinaryCopyRowsTest {
    private static byte[] message(boolean header, String host, int counter) {
        BinaryCopyBuffer b = new BinaryCopyBuffer();
        if (header) b.start();
        else b.clear();
        b.startRow(4);
        b.integer(counter);
        b.text(host);
        b.bool(counter % 2 == 0);
        b.bigint(counter * 1_000_000L);
        return Arrays.copyOf(b.array(), b.length());
    }

    private static byte[] trailer() {
        return new byte[] {(byte) 0xFF, (byte) 0xFF};
    }

    @Test
    void rows_are_read_field_by_field_and_equal_texts_are_one_string() throws SQLException {
        BinaryCopyRows rows = new BinaryCopyRows();
        assertThat(rows.row(message(true, "host0001", 1), 4)).isTrue();
        assertThat(rows.int4()).isEqualTo(1);
        String first = rows.text();
        assertThat(first).isEqualTo("host0001");
        assertThat(rows.bool()).isFalse();
        assertThat(rows.int8()).isEqualTo(1_000_000L);
        rows.endRow();
        assertThat(rows.row(message(false, "host0001", 2), 4)).isTrue();
        rows.int4();
        assertThat(rows.text()).isSameAs(first);
        assertThat(rows.bool()).isTrue();
        rows.int8();
        assertThat(rows.row(trailer(), 4)).isFalse();
    }

    @Test
    void thousands_of_distinct_texts_grow_the_table_and_each_keeps_its_string() throws SQLException {
        BinaryCopyRows rows = new BinaryCopyRows();
        String[] seen = new String[5000];
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < seen.length; i++) {
                rows.row(message(round == 0 && i == 0, "hóst-" + i, i), 4);
                rows.int4();
                String s = rows.text();
                assertThat(s).isEqualTo("hóst-" + i);
                if (round == 0) seen[i] = s;
                else assertThat(s).isSameAs(seen[i]);
                rows.bool();
                rows.int8();
                rows.endRow();
            }
        }
    }

    @Test
    void a_row_split_across_messages_or_two_rows_in_one_are_refused_not_misread() throws SQLException {
        byte[] whole = message(true, "host0001", 1);
        BinaryCopyRows split = new BinaryCopyRows();
        split.row(Arrays.copyOf(whole, whole.length - 3), 4);
        split.int4();
        split.text();
        split.bool();
        assertThatThrownBy(split::int8).isInstanceOf(SQLException.class).hasMessageContaining("split");

        byte[] next = message(false, "host0002", 2);
        byte[] two = Arrays.copyOf(whole, whole.length + next.length);
        System.arraycopy(next, 0, two, whole.length, next.length);
        BinaryCopyRows rows = new BinaryCopyRows();
        rows.row(two, 4);
        rows.int4();
        rows.text();
        rows.bool();
        rows.int8();
        assertThatThrownBy(rows::endRow).isInstanceOf(SQLException.class).hasMessageContaining("after its row");

        assertThatThrownBy(() -> new BinaryCopyRows().row(message(true, "h", 1), 9))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("expected 9");
        assertThatThrownBy(() -> new BinaryCopyRows().row(message(false, "h", 1), 4))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("not a binary COPY");
    }
}
