package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LagWindowTest {
    @Test
    void an_empty_window_reads_zero() {
        assertThat(new LagWindow(4).current()).isEqualTo(new LagWindow.Stats(0, 0, 0));
    }

    @Test
    void average_deviation_and_max_cover_only_the_last_events() {
        LagWindow w = new LagWindow(3);
        for (long lag : new long[] {100, 1, 2, 3}) w.add(lag);
        LagWindow.Stats s = w.current();
        assertThat(s.avg()).isEqualTo(2.0);
        assertThat(s.stdev()).isCloseTo(Math.sqrt(2.0 / 3), within(1e-9));
        assertThat(s.max()).isEqualTo(3);
        assertThat(w.size()).isEqualTo(3);
    }

    @Test
    void maxima_keep_the_whole_snapshot_in_which_each_number_peaked() {
        LagWindow w = new LagWindow(2);
        w.add(10); // [10]      avg 10, stdev 0, max 10
        w.add(30); // [10,30]   avg 20, stdev 10, max 30
        w.add(0); // [30,0]    avg 15, stdev 15, max 30
        w.add(0); // [0,0]
        assertThat(w.maxAverage()).isEqualTo(new LagWindow.Stats(20, 10, 30));
        assertThat(w.maxStdev()).isEqualTo(new LagWindow.Stats(15, 15, 30));
        assertThat(w.maxMax()).isEqualTo(new LagWindow.Stats(20, 10, 30));
        assertThat(w.current()).isEqualTo(new LagWindow.Stats(0, 0, 0));
    }
}
