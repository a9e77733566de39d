package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** {@code load}'s final report, with and without its own subscribers. */
class LoadRunReportTest {
    private static LoadRun.Result result(int subscribers, long delivered) {
        LoadRun.Plan plan =
                new LoadRun.Plan(1, 2000, 300, subscribers, Duration.ofSeconds(5), Duration.ofSeconds(10), 1L);
        Histogram lag = new Histogram(3);
        if (subscribers > 0) lag.recordValue(12_000);
        return new LoadRun.Result(plan, 20_000, 30_000, 0, 20_000L * subscribers, delivered, lag, 10.0);
    }

    @Test
    void anEmitterWithoutSubscribersReportsNoLagOfItsOwn() {
        // bench/lag measures the lag in other processes: a line of zeros here would be read as the lag (summarize.py)
        String report = result(0, 0).report();
        assertThat(report)
                .contains("no subscribers")
                .contains("20000 events offered")
                .doesNotContain("lag");
        assertThat(result(0, 0).lossless()).isTrue();
    }

    @Test
    void withSubscribersTheReportHasTheDeliveriesAndTheLag() {
        String report = result(2, 40_000).report();
        assertThat(report).contains("delivered: 40000 of 40000").contains("p50 12.0");
    }
}
