package io.jobstream.diagnosis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A job's viewer reads node-wide causes, and a subscriber finding only about their own connection on this job. */
class JobReasonsTest {
    private static Finding subscriber(long user, long job) {
        Map<String, Object> subject = new LinkedHashMap<>();
        subject.put("user", "user" + user);
        subject.put("user_id", user);
        subject.put("remote", "/10.0.0.9:4711");
        subject.put("jobs", List.of(job));
        return new Finding(
                "subscriber",
                "published_written",
                "subscriber user" + user + " at /10.0.0.9:4711 (jobs [" + job + "]) reads slower",
                Map.of("outbox_depth", 4200L),
                subject,
                List.of(),
                "…",
                0.9);
    }

    private static final Finding DATABASE = new Finding(
            "database",
            "received_committed",
            "database commits are slow: 1.8 s per batch",
            Map.of(),
            Map.of(),
            List.of(),
            "…",
            0.5);

    private static final Diagnosis DIAGNOSIS = new Diagnosis(
            "degraded", Map.of(), List.of(subscriber(3, 7), subscriber(4, 7), subscriber(3, 8), DATABASE));

    @SuppressWarnings("unchecked")
    private static List<String> sentences(Map<String, Object> out) {
        return ((List<Map<String, Object>>) out.get("reasons"))
                .stream().map(r -> (String) r.get("sentence")).toList();
    }

    @Test
    void a_viewer_reads_their_own_slow_connection_on_this_job_and_the_node_wide_causes_only() {
        List<String> seen = sentences(JobReasons.of(DIAGNOSIS, 3, 7, 30));
        assertThat(seen)
                .containsExactly(
                        "a connection of yours watching this job reads slower than events arrive (4200 messages queued"
                                + " for it)",
                        "database commits are slow: 1.8 s per batch");
        assertThat(String.join(" ", seen)).doesNotContain("user4", "10.0.0.9");
    }

    @Test
    void another_viewer_of_the_job_learns_nothing_about_other_users() {
        Map<String, Object> out = JobReasons.of(DIAGNOSIS, 5, 7, 30);
        assertThat(sentences(out)).containsExactly("database commits are slow: 1.8 s per batch");
        assertThat(out).containsEntry("verdict", "degraded").containsEntry("job", 7L);
    }

    @Test
    void with_only_other_users_subscribers_behind_the_job_is_healthy_for_its_viewer() {
        Diagnosis d = new Diagnosis("degraded", Map.of(), List.of(subscriber(4, 7)));
        assertThat(JobReasons.of(d, 3, 7, 30)).containsEntry("verdict", "healthy");
    }
}
