package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.postgres.Database;
import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.WsTestClient;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: the counters a diagnosis reasons from mean what their names say. A known workload (events over several
 * jobs, each closed by an EOF, some events resent, some lines malformed, one websocket subscriber) is run against a
 * real node, and every counter of {@code /metrics} and of the stats JSON ({@code ./jobstream stats --json}) is tied
 * to the rows in PostgreSQL afterwards and to what the client sent and received.
 */
class CountersIT {
    private static final Map<Long, Integer> JOBS = Map.of(101L, 60, 102L, 35, 103L, 5);
    private static final int RESENT = 12; // job 101's first counters, sent a second time
    private static final String[] MALFORMED = {"{\"job_id\": 101, \"counter\":", "{\"job_id\": 102, \"counter\": \"7\"}"
    };

    @TempDir
    Path dir;

    @Test
    void every_counter_in_metrics_and_stats_matches_the_rows_stored_and_the_frames_a_subscriber_got() throws Exception {
        try (EmbeddedDatabase postgres = new EmbeddedDatabase(dir.resolve("pg"), RunningServer.PG_BINARIES)) {
            String url = postgres.start();
            try (RunningServer node = RunningServer.start(dir.resolve("node"), Map.of("database-url", url))) {
                WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=ct", true);
                ws.next(); // accept
                ws.send("{\"xrftoken\": \"ct\", \"groups\": {\"job_events\": [101, 102, 103]}}");
                ws.next(); // groups_current

                Sent sent = runWorkload(node);

                int events = JOBS.values().stream().mapToInt(Integer::intValue).sum();
                List<JsonNode> got = new ArrayList<>();
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    String f;
                    while ((f = ws.frames.poll()) != null) got.add(Json.MAPPER.readTree(f));
                    return got.stream().filter(CountersIT::isEvent).count() >= events;
                });
                // the last frames' write callbacks may follow the client's read by a moment
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> new Scrape(node.uri("/metrics")).sum("ws_events_written_total") >= events);

                Rows rows = rows(url);
                Scrape m = new Scrape(node.uri("/metrics"));
                JsonNode stats = Http.getJson(node.uri("/api/v2/stats/"));

                // what PostgreSQL holds: every distinct event once, one final counter per job
                assertThat(rows.eventsPerJob).isEqualTo(new TreeMap<>(JOBS));
                assertThat(rows.jobsWithFinalCounter).isEqualTo(JOBS.size());
                assertThat(rows.parked).isZero();
                // the replies the client got: accepted counts events and EOFs (messages), duplicates the resent
                assertThat(sent.accepted).isEqualTo(events + JOBS.size());
                assertThat(sent.duplicates).isEqualTo(RESENT);
                assertThat(sent.rejected).isEqualTo(MALFORMED.length);

                // ingest: valid events decoded (resent ones too), EOFs apart, lines refused
                assertThat(m.sum("events_received_total")).isEqualTo(events + RESENT);
                assertThat(m.sum("jobs_eof_received_total")).isEqualTo(JOBS.size());
                assertThat(m.sum("events_rejected_total")).isEqualTo(MALFORMED.length);
                assertThat(m.sum("ingest_requests_total", "status=\"200\"")).isEqualTo(sent.requests);
                assertThat(m.sum("ingest_requests_total")).isEqualTo(sent.requests);
                // receiver: rows, resent events, job ends
                assertThat(m.sum("events_stored_total")).isEqualTo(rows.events());
                assertThat(m.sum("events_duplicate_total")).isEqualTo(RESENT);
                assertThat(m.sum("events_parked_total")).isEqualTo(rows.parked);
                assertThat(m.sum("jobs_eof_stored_total")).isEqualTo(rows.jobsWithFinalCounter);
                assertThat(m.sum("jobs_eof_parked_total")).isZero();
                assertThat(m.sum("persist_failures_total")).isZero();
                // every message of every batch had one fate
                assertThat(m.sum("persist_batch_size_sum"))
                        .isEqualTo(rows.events() + RESENT + rows.jobsWithFinalCounter);
                // lag histograms: one sample per event (received: per valid event decoded; the rest: per new row)
                assertThat(m.sum("lag_received_seconds_count")).isEqualTo(events + RESENT);
                assertThat(m.sum("lag_committed_seconds_count")).isEqualTo(rows.events());
                for (String hop : List.of("created_received", "received_committed", "committed_published")) {
                    assertThat(m.sum("event_hop_seconds_count", "hop=\"" + hop + "\""))
                            .as(hop)
                            .isEqualTo(rows.events());
                }
                // fan-out: the one subscriber got every row once, live, and nothing else was counted as an event
                assertThat(got.stream().filter(CountersIT::isEvent).count()).isEqualTo(rows.events());
                assertThat(m.sum("ws_events_written_total")).isEqualTo(rows.events());
                assertThat(m.sum("event_hop_seconds_count", "hop=\"created_written\""))
                        .isEqualTo(rows.events());
                assertThat(m.sum("ws_events_duplicate_total")).isZero();
                assertThat(m.sum("ws_events_replayed_total")).isZero();

                // the stats JSON says the same as /metrics
                JsonNode ingest = stats.path("ingest");
                assertThat(ingest.path("received").asLong()).isEqualTo(events + RESENT);
                assertThat(ingest.path("eofs_received").asLong()).isEqualTo(JOBS.size());
                assertThat(ingest.path("rejected").asLong()).isEqualTo(MALFORMED.length);
                assertThat(ingest.path("requests_by_status").path("200").asLong())
                        .isEqualTo(sent.requests);
                JsonNode receiver = stats.path("receiver");
                assertThat(receiver.path("stored").asLong()).isEqualTo(rows.events());
                assertThat(receiver.path("duplicates").asLong()).isEqualTo(RESENT);
                assertThat(receiver.path("parked").asLong()).isEqualTo(rows.parked);
                assertThat(receiver.path("eofs_stored").asLong()).isEqualTo(rows.jobsWithFinalCounter);
                assertThat(receiver.path("eofs_parked").asLong()).isZero();
                JsonNode lag = stats.path("lag_last_minute");
                assertThat(lag.path("received_committed").path("events").asLong())
                        .isEqualTo(rows.events());
                assertThat(lag.path("created_written").path("events").asLong()).isEqualTo(rows.events());
                ws.abort();
            }
        }
    }

    /** What the client sent and what the replies said. */
    private static final class Sent {
        int requests;
        long accepted;
        long duplicates;
        long rejected;

        void post(RunningServer node, List<String> lines) {
            var reply = Http.post(node.uri("/api/v2/job_events/ingest/"), String.join("\n", lines));
            assertThat(reply.statusCode()).as(reply.body()).isEqualTo(200);
            JsonNode body = Http.json(reply.body());
            requests++;
            accepted += body.path("accepted").asLong();
            duplicates += body.path("duplicates").asLong();
            rejected += body.path("rejected").size();
        }
    }

    /**
     * Each job's events in two requests, the first with a malformed line for jobs 101 and 102; job 101's first
     * counters again; then each job's EOF on its own.
     */
    private static Sent runWorkload(RunningServer node) {
        Sent sent = new Sent();
        int malformed = 0;
        for (long job : new TreeMap<>(JOBS).keySet()) {
            int n = JOBS.get(job);
            List<String> first = new ArrayList<>();
            for (int c = 1; c <= n / 2; c++) first.add(Events.event(job, c));
            if (malformed < MALFORMED.length) first.add(1, MALFORMED[malformed++]);
            sent.post(node, first);
            List<String> second = new ArrayList<>();
            for (int c = n / 2 + 1; c <= n; c++) second.add(Events.event(job, c));
            sent.post(node, second);
        }
        List<String> again = new ArrayList<>();
        for (int c = 1; c <= RESENT; c++) again.add(Events.event(101, c));
        sent.post(node, again);
        for (long job : new TreeMap<>(JOBS).keySet()) sent.post(node, List.of(Events.eof(job, JOBS.get(job))));
        return sent;
    }

    private static boolean isEvent(JsonNode frame) {
        return frame.has("counter") && frame.has("job");
    }

    private record Rows(Map<Long, Integer> eventsPerJob, long jobsWithFinalCounter, long parked) {
        long events() {
            return eventsPerJob.values().stream().mapToLong(Integer::longValue).sum();
        }
    }

    private static Rows rows(String url) throws SQLException {
        try (Database db = Database.fromUrl(url, 2)) {
            db.start();
            try (Connection c = db.dataSource().getConnection();
                    Statement st = c.createStatement()) {
                Map<Long, Integer> perJob = new TreeMap<>();
                try (ResultSet rs = st.executeQuery("SELECT job_id, count(*) FROM job_event GROUP BY job_id")) {
                    while (rs.next()) perJob.put(rs.getLong(1), rs.getInt(2));
                }
                return new Rows(
                        perJob,
                        single(st, "SELECT count(*) FROM job WHERE final_counter IS NOT NULL"),
                        single(st, "SELECT count(*) FROM parked_message"));
            }
        }
    }

    private static long single(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** One read of a node's {@code /metrics}: sums of a series over its samples, optionally those with a label. */
    private static final class Scrape {
        private final String[] lines;

        Scrape(URI metrics) {
            this.lines = Http.get(metrics).body().split("\n");
        }

        double sum(String name) {
            return sum(name, "");
        }

        double sum(String name, String label) {
            Predicate<String> sample = l -> l.startsWith(name + "{") || l.startsWith(name + " ");
            double total = 0;
            for (String l : lines) {
                if (sample.test(l) && l.contains(label))
                    total += Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
            return total;
        }
    }
}
