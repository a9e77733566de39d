package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ApiStdoutIT {
    private static final String ESC = "\u001b";
    private static final int BIG_JOB_EVENTS = 200_000;
    private static final int MIB = 1 << 20;
    /** More than loopback socket buffers absorb, so a client that stops reading stalls the server's writes. */
    private static final int SLOW_JOB_EVENTS = 24;

    private static TestApi api;

    @BeforeAll
    static void start() throws Exception {
        api = new TestApi();
        api.job(3, "successful", true);
        api.event(3, 1, "a", "", "playbook_on_start", "", 0, 0);
        api.event(3, 2, "b", "a", "playbook_on_play_start", "PLAY [all] ***", 0, 1);
        api.event(3, 3, "c", "b", "runner_on_ok", ESC + "[0;32mok: [web1]" + ESC + "[0m", 1, 2);
        api.event(3, 4, "d", "b", "verbose", "line a\r\nline b", 2, 4);
        api.event(3, 5, "e", "b", "runner_on_start", "", 4, 4);
        api.event(3, 6, "f", "a", "playbook_on_stats", "done <b>", 4, 5);
        api.job(4, "successful", true);
        api.sql("INSERT INTO job_event (id, job_id, counter, event, stdout, created, modified, received)"
                + " SELECT 4000000 + n, 4, n, 'verbose', repeat('x', 600000), now(), now(), now()"
                + " FROM generate_series(1, 2) n");
        api.job(6, "successful", true);
        api.sql("INSERT INTO job_event (id, job_id, counter, uuid, event, stdout, start_line, end_line,"
                + " created, modified, received) SELECT 6000000 + n, 6, n, 'u' || n, 'runner_on_ok',"
                + " chr(27) || '[0;32mline ' || n || chr(27) || '[0m', n - 1, n, now(), now(), now()"
                + " FROM generate_series(1, " + BIG_JOB_EVENTS + ") n");
        api.job(7, "successful", true);
        api.sql("INSERT INTO job_event (id, job_id, counter, event, stdout, created, modified, received)"
                + " SELECT 7000000 + n, 7, n, 'verbose', repeat('y', " + MIB + "), now(), now(), now()"
                + " FROM generate_series(1, " + SLOW_JOB_EVENTS + ") n");
    }

    @AfterAll
    static void stop() throws Exception {
        api.close();
    }

    @Test
    void ansi_format_joins_event_stdout_in_counter_order_skipping_empty_events() throws Exception {
        HttpResponse<String> r = api.get("/api/v2/jobs/3/stdout/?format=ansi");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(r.body())
                .isEqualTo(
                        "PLAY [all] ***\n" + ESC + "[0;32mok: [web1]" + ESC + "[0m\n" + "line a\nline b\ndone <b>\n");
    }

    @Test
    void txt_format_removes_ansi_escapes() throws Exception {
        assertThat(api.get("/api/v2/jobs/3/stdout/?format=txt").body())
                .isEqualTo("PLAY [all] ***\nok: [web1]\nline a\nline b\ndone <b>\n");
        assertThat(api.get("/api/v2/jobs/3/stdout/").body()).startsWith("PLAY [all] ***\nok: [web1]\n");
    }

    @Test
    void json_format_returns_a_line_range() throws Exception {
        JsonNode all = api.json("/api/v2/jobs/3/stdout/?format=json");
        assertThat(all.get("range").toString()).isEqualTo("{\"start\":0,\"end\":5,\"absolute_end\":5}");
        JsonNode part = api.json("/api/v2/jobs/3/stdout/?format=json&start_line=1&end_line=3");
        assertThat(part.get("range").toString()).isEqualTo("{\"start\":1,\"end\":3,\"absolute_end\":5}");
        assertThat(part.get("content").asText()).isEqualTo(ESC + "[0;32mok: [web1]" + ESC + "[0m\nline a\n");
        JsonNode tail = api.json("/api/v2/jobs/3/stdout/?format=json&start_line=-2");
        assertThat(tail.get("range").toString()).isEqualTo("{\"start\":3,\"end\":5,\"absolute_end\":5}");
        assertThat(tail.get("content").asText()).isEqualTo("line b\ndone <b>\n");
        JsonNode b64 = api.json("/api/v2/jobs/3/stdout/?format=json&start_line=3&end_line=4&content_encoding=base64");
        assertThat(new String(Base64.getDecoder().decode(b64.get("content").asText()), StandardCharsets.UTF_8))
                .isEqualTo("line b\n");
    }

    @Test
    void html_format_escapes_and_strips() throws Exception {
        String html = api.get("/api/v2/jobs/3/stdout/?format=html").body();
        assertThat(html).contains("<pre>PLAY [all] ***\nok: [web1]\n").contains("done &lt;b&gt;\n</pre>");
    }

    @Test
    void downloads_are_attachments_named_after_the_job() throws Exception {
        HttpResponse<String> txt = api.get("/api/v2/jobs/3/stdout/?format=txt_download");
        assertThat(txt.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"job_3.txt\"");
        assertThat(txt.body()).isEqualTo("PLAY [all] ***\nok: [web1]\nline a\nline b\ndone <b>\n");
        HttpResponse<String> ansi = api.get("/api/v2/jobs/3/stdout/?format=ansi_download");
        assertThat(ansi.headers().firstValue("Content-Disposition"))
                .hasValue("attachment; filename=\"job_3.ansi.txt\"");
        assertThat(ansi.body()).contains(ESC + "[0;32m");
    }

    @Test
    void output_over_a_mebibyte_is_only_downloadable() throws Exception {
        String message = "Standard Output too large to display (1200000 bytes), only download supported for"
                + " sizes over 1048576 bytes.";
        assertThat(api.get("/api/v2/jobs/4/stdout/?format=txt").body()).isEqualTo(message);
        assertThat(api.get("/api/v2/jobs/4/stdout/?format=ansi").body()).isEqualTo(message);
        JsonNode json = api.json("/api/v2/jobs/4/stdout/?format=json");
        assertThat(json.get("range").toString()).isEqualTo("{\"start\":0,\"end\":1,\"absolute_end\":1}");
        assertThat(json.get("content").asText()).isEqualTo(message);
        assertThat(api.get("/api/v2/jobs/4/stdout/?format=txt_download").body()).hasSize(1_200_002);
    }

    @Test
    void unknown_format_is_400() throws Exception {
        HttpResponse<String> r = api.get("/api/v2/jobs/3/stdout/?format=pdf");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(r.body()).get("detail").asText()).contains("format must be one of");
    }

    @Test
    void a_job_of_200000_events_streams_whole() throws Exception {
        StringBuilder expectedTxt = new StringBuilder();
        long ansiBytes = 0;
        for (int n = 1; n <= BIG_JOB_EVENTS; n++) {
            String line = "line " + n;
            expectedTxt.append(line).append('\n');
            ansiBytes += 7 + line.length() + 4 + 1;
        }
        HttpResponse<byte[]> txt =
                api.get("/api/v2/jobs/6/stdout/?format=txt_download", HttpResponse.BodyHandlers.ofByteArray());
        assertThat(txt.statusCode()).isEqualTo(200);
        assertThat(txt.headers().firstValue("Content-Length")).isEmpty(); // streamed (chunked), never buffered whole
        assertThat(new String(txt.body(), StandardCharsets.UTF_8)).isEqualTo(expectedTxt.toString());
        HttpResponse<java.io.InputStream> ansi =
                api.get("/api/v2/jobs/6/stdout/?format=ansi_download", HttpResponse.BodyHandlers.ofInputStream());
        long count = 0;
        try (java.io.InputStream in = ansi.body()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) count += n;
        }
        assertThat(count).isEqualTo(ansiBytes);
    }

    @Test
    void downloads_read_slowly_hold_no_database_connection_while_they_wait() throws Exception {
        List<java.io.InputStream> downloads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            java.io.InputStream in = api.get(
                            "/api/v2/jobs/7/stdout/?format=txt_download", HttpResponse.BodyHandlers.ofInputStream())
                    .body();
            assertThat(in.readNBytes(1 << 16)).hasSize(1 << 16);
            downloads.add(in); // and stop reading: the server's writes stall on full socket buffers
        }
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(
                                api.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                        + " AND pid <> pg_backend_pid() AND (state = 'idle in transaction' OR query LIKE '%job_event%'"
                                        + " AND state = 'active')"))
                        .as("connections held by stalled downloads")
                        .isZero());

        for (java.io.InputStream in : downloads) {
            long total = 1 << 16;
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) total += n;
            in.close();
            assertThat(total).isEqualTo((long) SLOW_JOB_EVENTS * (MIB + 1));
        }
    }
}
