package io.jobstream.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Timestamps;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.assertj.core.api.SoftAssertions;

/**
 * Checks that a job's compact timeline ({@code ?format=matrix}) says what its SPEC §11 timeline says, cell by cell:
 * the same tasks with the same fields, the same hosts, and per (task, host) the status letter, start and duration or
 * elapsed time (to the millisecond) and the slow flag. Used on synthetic and on real ansible runs.
 */
public final class TimelineMatrixCheck {
    private static final Map<String, String> LETTERS = Map.of(
            "ok", "o",
            "changed", "c",
            "failed", "f",
            "skipped", "s",
            "unreachable", "u",
            "running", "r",
            "incomplete", "x");

    private TimelineMatrixCheck() {}

    /** Every task of the SPEC timeline with its hosts, all pages. */
    public static List<JsonNode> specTasks(Function<String, URI> uri, long job) {
        List<JsonNode> tasks = new ArrayList<>();
        String next = "/api/v2/jobs/" + job + "/timeline/?page_size=200";
        while (next != null) {
            JsonNode page = Http.getJson(uri.apply(next));
            page.path("tasks").forEach(tasks::add);
            next = page.path("next").isTextual() ? page.path("next").asText() : null;
        }
        return tasks;
    }

    /** Asserts the agreement; returns the number of non-empty cells compared. */
    public static int assertAgrees(Function<String, URI> uri, long job) {
        List<JsonNode> spec = specTasks(uri, job);
        JsonNode m = Http.getJson(uri.apply("/api/v2/jobs/" + job + "/timeline/?format=matrix"));
        return assertAgrees(spec, m);
    }

    public static int assertAgrees(List<JsonNode> spec, JsonNode m) {
        SoftAssertions soft = new SoftAssertions();
        List<String> hosts = new ArrayList<>();
        m.path("hosts").forEach(h -> hosts.add(h.asText()));
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < hosts.size(); i++) index.put(hosts.get(i), i);
        soft.assertThat(index).as("hosts are unique").hasSize(hosts.size());
        soft.assertThat(m.path("host_count").asInt()).isEqualTo(hosts.size());
        soft.assertThat(m.path("tasks").size()).as("tasks").isEqualTo(spec.size());
        soft.assertThat(m.path("count").asInt()).isEqualTo(spec.size());
        long now = Timestamps.micros(Timestamps.parse(m.path("now").asText()));
        Set<String> seen = new HashSet<>();
        int cells = 0;
        for (int t = 0; t < Math.min(spec.size(), m.path("tasks").size()); t++) {
            JsonNode s = spec.get(t);
            JsonNode c = m.path("tasks").get(t);
            String where = "task " + t + " (" + s.path("task").asText() + ")";
            for (String f : List.of("uuid", "play", "task", "ordinal", "counter", "start", "end"))
                soft.assertThat(c.path(f)).as(where + " " + f).isEqualTo(s.path(f));
            if (!s.path("running").asBoolean()) // a running task's duration moves between the two requests
            soft.assertThat(c.path("duration").asDouble())
                        .as(where + " duration")
                        .isEqualTo(s.path("duration").asDouble());
            soft.assertThat(c.path("running")).as(where + " running").isEqualTo(s.path("running"));
            String letters = c.path("cells").asText();
            soft.assertThat(letters.length()).as(where + " cells").isEqualTo(hosts.size());
            soft.assertThat(c.path("start_ms").size()).as(where + " start_ms").isEqualTo(hosts.size());
            soft.assertThat(c.path("ms").size()).as(where + " ms").isEqualTo(hosts.size());
            Set<Integer> slow = new HashSet<>();
            c.path("slow").forEach(i -> slow.add(i.asInt()));
            long taskStart = Timestamps.micros(Timestamps.parse(s.path("start").asText()));
            Set<Integer> present = new HashSet<>();
            for (JsonNode h : s.path("hosts")) {
                String name = h.path("host_name").asText();
                seen.add(name);
                Integer i = index.get(name);
                soft.assertThat(i).as(where + " host " + name + " in hosts").isNotNull();
                if (i == null || i >= letters.length()) continue;
                present.add(i);
                cells++;
                String at = where + " host " + name;
                String status = h.path("status").asText();
                String letter = h.path("ignored").asBoolean() ? "i" : LETTERS.get(status);
                soft.assertThat(String.valueOf(letters.charAt(i)))
                        .as(at + " status " + status)
                        .isEqualTo(letter);
                long start = Timestamps.micros(Timestamps.parse(h.path("start").asText()));
                soft.assertThat(c.path("start_ms").get(i).asLong())
                        .as(at + " start_ms")
                        .isEqualTo(Math.floorDiv(start - taskStart, 1000));
                long ms = c.path("ms").get(i).asLong();
                if (h.has("duration")) {
                    long micros = Math.round(h.path("duration").asDouble() * 1_000_000);
                    soft.assertThat(ms).as(at + " ms").isEqualTo(Math.floorDiv(micros, 1000));
                    soft.assertThat(slow.contains(i))
                            .as(at + " slow")
                            .isEqualTo(h.path("slow").asBoolean());
                } else if (status.equals("running")) {
                    // elapsed up to the matrix's own now (the SPEC answer was computed a moment earlier)
                    soft.assertThat(ms).as(at + " elapsed ms").isEqualTo(Math.max(0, now - start) / 1000);
                } else {
                    soft.assertThat(ms).as(at + " ms of an incomplete host").isEqualTo(-1);
                    soft.assertThat(slow.contains(i)).as(at + " slow").isFalse();
                }
            }
            for (int i = 0; i < letters.length(); i++) {
                if (present.contains(i)) continue;
                soft.assertThat(letters.charAt(i))
                        .as(where + " host " + hosts.get(i) + " absent")
                        .isEqualTo('.');
                soft.assertThat(c.path("ms").get(i).asLong())
                        .as(where + " absent ms")
                        .isZero();
            }
        }
        soft.assertThat(seen).as("every host of the timeline, none more").isEqualTo(new HashSet<>(hosts));
        soft.assertAll();
        assertThat(cells).isPositive();
        return cells;
    }
}
