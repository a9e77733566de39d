package io.jobstream.testing;

import io.jobstream.event.Timestamps;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A synthetic playbook run as the callback plugin would emit it (linear strategy): playbook and play start, then per
 * task a task start, a runner_on_start per host and a result per host, then the stats event and the EOF. Task
 * {@code t} starts at {@code start + t × taskSpacing}; host {@code h} runs it for the duration {@link #duration}
 * gives. Results come from {@link #status} ({@code ok, changed, failed, ignored, skipped, unreachable}, or
 * {@code running}: started, no result). Hosts are {@code host0001...}, tasks {@code task 1...}.
 */
public final class SyntheticRun {
    public final long job;
    public final int hosts;
    public final int tasks;
    public Instant start = Instant.parse("2026-01-01T10:00:00Z");
    public Duration taskSpacing = Duration.ofSeconds(10);
    public BiFunction<Integer, Integer, Duration> duration = (h, t) -> Duration.ofMillis(500);
    public BiFunction<Integer, Integer, String> status = (h, t) -> "ok";
    /** Whether the run ended (stats event and EOF); false leaves it running. */
    public boolean finished = true;
    /** Bytes of padding in each result's event_data, like a module's result payload. */
    public int resultBytes = 0;

    public SyntheticRun(long job, int hosts, int tasks) {
        this.job = job;
        this.hosts = hosts;
        this.tasks = tasks;
    }

    public static String host(int h) {
        return String.format("host%04d", h + 1);
    }

    public static String taskName(int t) {
        return "task " + (t + 1);
    }

    /** Every event as NDJSON lines, in counter order. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        int[] counter = {0};
        String playUuid = job + "-play";
        String pad = "x".repeat(resultBytes);
        out.add(event(++counter[0], "playbook_on_start", job + "-pb", "", "", start, "", "", ""));
        out.add(event(++counter[0], "playbook_on_play_start", playUuid, job + "-pb", "", start, "", "PLAY [all]", ""));
        int[][] stats = new int[hosts][6]; // ok changed failures dark skipped ignored
        for (int t = 0; t < tasks; t++) {
            Instant ts = start.plus(taskSpacing.multipliedBy(t + 1));
            String taskUuid = job + "-task-" + t;
            out.add(event(
                    ++counter[0],
                    "playbook_on_task_start",
                    taskUuid,
                    playUuid,
                    "",
                    ts,
                    taskName(t),
                    "TASK [" + taskName(t) + "]",
                    ""));
            for (int h = 0; h < hosts; h++) {
                out.add(event(
                        ++counter[0],
                        "runner_on_start",
                        job + "-s-" + t + "-" + h,
                        taskUuid,
                        host(h),
                        ts.plusMillis(h % 100),
                        taskName(t),
                        "",
                        ""));
            }
            for (int h = 0; h < hosts; h++) {
                String s = status.apply(h, t);
                if (s.equals("running")) continue;
                Instant end = ts.plusMillis(h % 100).plus(duration.apply(h, t));
                String type = switch (s) {
                    case "ok", "changed" -> "runner_on_ok";
                    case "failed", "ignored" -> "runner_on_failed";
                    case "skipped" -> "runner_on_skipped";
                    default -> "runner_on_unreachable";
                };
                int[] st = stats[h];
                switch (s) {
                    case "ok" -> st[0]++;
                    case "changed" -> {
                        st[0]++;
                        st[1]++;
                    }
                    case "failed" -> st[2]++;
                    case "unreachable" -> st[3]++;
                    case "skipped" -> st[4]++;
                    default -> st[5]++;
                }
                String extra = ",\"res\":{\"changed\":" + s.equals("changed") + ",\"pad\":\"" + pad + "\"}"
                        + (s.equals("ignored") ? ",\"ignore_errors\":true" : "");
                out.add(event(
                        ++counter[0],
                        type,
                        job + "-r-" + t + "-" + h,
                        taskUuid,
                        host(h),
                        end,
                        taskName(t),
                        s + ": [" + host(h) + "]",
                        extra));
            }
        }
        if (finished) {
            StringBuilder data = new StringBuilder();
            String[] names = {"ok", "changed", "failures", "dark", "skipped", "ignored"};
            for (int f = 0; f < names.length; f++) {
                data.append(",\"").append(names[f]).append("\":{");
                for (int h = 0; h < hosts; h++) {
                    if (h > 0) data.append(',');
                    data.append('"').append(host(h)).append("\":").append(stats[h][f]);
                }
                data.append('}');
            }
            data.append(",\"processed\":{");
            for (int h = 0; h < hosts; h++)
                data.append(h > 0 ? "," : "").append('"').append(host(h)).append("\":1");
            data.append("},\"rescued\":{}");
            Instant end = start.plus(taskSpacing.multipliedBy(tasks + 1));
            out.add(event(
                    ++counter[0],
                    "playbook_on_stats",
                    job + "-stats",
                    job + "-pb",
                    "",
                    end,
                    "",
                    "PLAY RECAP",
                    data.toString()));
            out.add("{\"event\":\"EOF\",\"job_id\":" + job + ",\"final_counter\":" + counter[0] + "}");
        }
        return out;
    }

    private String event(
            int counter,
            String type,
            String uuid,
            String parent,
            String host,
            Instant created,
            String task,
            String stdout,
            String extraData) {
        return "{\"job_id\":" + job + ",\"counter\":" + counter + ",\"event\":\"" + type + "\",\"uuid\":\"" + uuid
                + "\",\"parent_uuid\":\"" + parent + "\",\"created\":\"" + Timestamps.format(created)
                + "\",\"stdout\":\"" + stdout + "\",\"start_line\":" + (counter - 1) + ",\"end_line\":"
                + (stdout.isEmpty() ? counter - 1 : counter) + ",\"event_data\":{\"play\":\"all\",\"task\":\"" + task
                + "\",\"host\":\"" + host + "\"" + extraData + "}}";
    }
}
