package io.jobstream.testing;

import io.jobstream.event.Timestamps;
import java.time.Instant;

/** Synthetic AWX-shaped events for tests: one line of stdout per event, lines numbered by counter. */
public final class Events {
    private Events() {}

    /** Event {@code counter} of {@code job}; every 10th has no output, like most runner_on_start events. */
    public static String event(long job, int counter) {
        boolean quiet = counter % 10 == 0;
        String stdout = quiet ? "" : stdoutOf(job, counter);
        int line = counter - 1 - counter / 10;
        return "{\"job_id\":" + job + ",\"counter\":" + counter + ",\"event\":\""
                + (quiet ? "runner_on_start" : "runner_on_ok")
                + "\",\"uuid\":\"" + job + "-" + counter + "\",\"created\":\"" + Timestamps.format(Instant.now())
                + "\",\"stdout\":\"" + stdout + "\",\"start_line\":" + line + ",\"end_line\":"
                + (quiet ? line : line + 1)
                + ",\"event_data\":{\"host\":\"host" + counter % 7 + "\",\"task\":\"task " + counter / 50 + "\"}}";
    }

    public static String stdoutOf(long job, int counter) {
        return "job " + job + " line " + counter + " \\u001b[0;32mok\\u001b[0m";
    }

    /** What {@code stdout/?format=txt} must show for counters 1..n of a job. */
    public static String expectedText(long job, int n) {
        StringBuilder sb = new StringBuilder();
        for (int c = 1; c <= n; c++)
            if (c % 10 != 0)
                sb.append("job ").append(job).append(" line ").append(c).append(" ok\n");
        return sb.toString();
    }

    public static String eof(long job, int finalCounter) {
        return "{\"event\":\"EOF\",\"job_id\":" + job + ",\"final_counter\":" + finalCounter + "}";
    }
}
