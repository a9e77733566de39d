package io.jobstream.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ApiEventsIT {
    private static final String ESC = "\u001b";
    private static TestApi api;

    @BeforeAll
    static void start() throws Exception {
        api = new TestApi();
        // job 1: the children_summary example of reference §7.1
        api.job(1, "successful", true);
        api.event(1, 1, "uuid1", "", "playbook_on_start", "", 0, 0);
        api.event(1, 2, "uuid2", "uuid1", "playbook_on_play_start", "\nPLAY [all] ***", 0, 2);
        api.event(1, 3, "uuid3", "uuid2", "playbook_on_task_start", "\nTASK [ping] ***", 2, 4);
        api.event(1, 4, "uuid4", "", "verbose", "a verbose line", 4, 5);
        api.event(1, 5, "uuid5", "uuid1", "playbook_on_play_start", "\nPLAY [two] ***", 5, 7);
        // job 2: 60 host events; every 10th failed, every 4th changed, even counters on web1, counter 3 silent
        api.job(2, "failed", true);
        api.sql(
                "INSERT INTO job_event (id, job_id, counter, uuid, parent_uuid, event, event_data, failed, changed,"
                        + " host_name, stdout, start_line, end_line, created, modified, received)"
                        + " SELECT 2000000 + n, 2, n, 'e' || n, 'task', CASE WHEN n % 10 = 0 THEN 'runner_on_failed'"
                        + " ELSE 'runner_on_ok' END, '{\"host\": \"web' || (n % 2 + 1) || '\"}', n % 10 = 0, n % 4 = 0,"
                        + " 'web' || (n % 2 + 1), CASE WHEN n = 3 THEN '' ELSE chr(27) || '[0;32mok: [web' || (n % 2 + 1)"
                        + " || '] line ' || n || chr(27) || '[0m' END, n, n + 1, now(), now(), now()"
                        + " FROM generate_series(1, 60) n",
                "UPDATE job_event SET stdout = chr(27) || '[0;31m' || repeat('x', 2000) WHERE job_id = 2 AND counter = 7",
                "UPDATE job_event SET event = 'playbook_on_task_start', stdout = repeat('y', 2000)"
                        + " WHERE job_id = 2 AND counter = 8");
        // job 5: still running
        api.job(5, "running", false);
        api.event(5, 1, "r1", "", "playbook_on_start", "", 0, 0);
    }

    @AfterAll
    static void stop() throws Exception {
        api.close();
    }

    private static List<Integer> counters(JsonNode page) {
        List<Integer> out = new ArrayList<>();
        page.get("results").forEach(e -> out.add(e.get("counter").asInt()));
        return out;
    }

    @Test
    void ping_describes_this_node() throws Exception {
        JsonNode ping = api.json("/api/v2/ping/");
        assertThat(ping.get("ha").asBoolean()).isFalse();
        assertThat(ping.get("version").asText()).isEqualTo("0.1.0-test");
        assertThat(ping.get("active_node").asText()).isEqualTo("node-a");
        assertThat(ping.get("instances").get(0).get("node").asText()).isEqualTo("node-a");
    }

    @Test
    void jobs_are_listed_newest_first_and_filtered_by_status() throws Exception {
        JsonNode all = api.json("/api/v2/jobs/");
        assertThat(all.get("count").asInt()).isEqualTo(3);
        assertThat(all.get("results").findValuesAsText("id")).containsExactly("5", "2", "1");
        JsonNode running = api.json("/api/v2/jobs/?status=running");
        assertThat(running.get("results").findValuesAsText("id")).containsExactly("5");
        JsonNode paged = api.json("/api/v2/jobs/?page_size=2&page=2");
        assertThat(paged.get("previous").asText()).isEqualTo("/api/v2/jobs/?page_size=2");
        assertThat(api.get("/api/v2/jobs/?status=bogus").statusCode()).isEqualTo(400);
    }

    @Test
    void job_detail_has_awx_fields_and_jobstream_extras() throws Exception {
        JsonNode job = api.json("/api/v2/jobs/2/");
        assertThat(job.get("type").asText()).isEqualTo("job");
        assertThat(job.get("url").asText()).isEqualTo("/api/v2/jobs/2/");
        assertThat(job.get("status").asText()).isEqualTo("failed");
        assertThat(job.get("elapsed").asDouble()).isEqualTo(2.5);
        assertThat(job.get("playbook_counts").get("play_count").asInt()).isEqualTo(2);
        assertThat(job.get("host_status_counts").get("ok").asInt()).isEqualTo(1);
        assertThat(job.get("final_counter").asInt()).isEqualTo(5);
        assertThat(job.get("last_lag_ms").asDouble()).isEqualTo(12.5);
        assertThat(job.get("started").asText()).isEqualTo("2024-05-01T10:00:00.000000Z");
    }

    @Test
    void unknown_ids_are_404_with_awx_detail() throws Exception {
        for (String path : List.of(
                "/api/v2/jobs/999/",
                "/api/v2/jobs/999/job_events/",
                "/api/v2/jobs/x/",
                "/api/v2/job_events/42/",
                "/api/v2/jobs/999/stdout/",
                "/api/v2/job_events/42/children/")) {
            HttpResponse<String> r = api.get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).isEqualTo("{\"detail\":\"Not found.\"}");
        }
    }

    @Test
    void event_list_pages_with_count_links_and_the_ui_header() throws Exception {
        HttpResponse<String> r = api.get("/api/v2/jobs/2/job_events/");
        assertThat(r.headers().firstValue("X-UI-Max-Events")).hasValue("4000");
        JsonNode page = Json.MAPPER.readTree(r.body());
        assertThat(page.get("count").asInt()).isEqualTo(60);
        assertThat(counters(page)).hasSize(25).startsWith(1, 2, 3);
        assertThat(page.get("next").asText()).isEqualTo("/api/v2/jobs/2/job_events/?page=2");
        assertThat(page.get("previous").isNull()).isTrue();
        JsonNode last = api.json("/api/v2/jobs/2/job_events/?page=3");
        assertThat(counters(last)).hasSize(10).endsWith(60);
        assertThat(last.get("next").isNull()).isTrue();
        assertThat(last.get("previous").asText()).isEqualTo("/api/v2/jobs/2/job_events/?page=2");
        assertThat(api.get("/api/v2/jobs/2/job_events/?page=4").body()).contains("Invalid page.");
        assertThat(counters(api.json("/api/v2/jobs/2/job_events/?page_size=1000")))
                .hasSize(60);
    }

    @Test
    void event_objects_have_awx_fields() throws Exception {
        JsonNode e =
                api.json("/api/v2/jobs/2/job_events/?counter=10").get("results").get(0);
        assertThat(e.get("id").asLong()).isEqualTo(2_000_010L);
        assertThat(e.get("type").asText()).isEqualTo("job_event");
        assertThat(e.get("url").asText()).isEqualTo("/api/v2/job_events/2000010/");
        assertThat(e.get("related").get("children").asText()).isEqualTo("/api/v2/job_events/2000010/children/");
        assertThat(e.get("summary_fields").get("job").get("status").asText()).isEqualTo("failed");
        assertThat(e.get("job").asInt()).isEqualTo(2);
        assertThat(e.get("event_display").asText()).isEqualTo("Host Failed");
        assertThat(e.get("event_level").asInt()).isEqualTo(3);
        assertThat(e.get("event_data").get("host").asText()).isEqualTo("web1");
        assertThat(e.get("failed").asBoolean()).isTrue();
        assertThat(e.get("host").isNull()).isTrue();
        assertThat(e.get("host_name").asText()).isEqualTo("web1");
        assertThat(e.get("start_line").asInt()).isEqualTo(10);
        assertThat(e.get("created").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
    }

    @Test
    void limit_returns_only_results_without_count() throws Exception {
        JsonNode r = api.json("/api/v2/jobs/2/job_events/?order_by=-counter&limit=1");
        assertThat(r.size()).isEqualTo(1);
        assertThat(counters(r)).containsExactly(60);
        JsonNode noCount = api.json("/api/v2/jobs/2/job_events/?count_disabled=1&page_size=2");
        assertThat(noCount.has("count")).isFalse();
        assertThat(counters(noCount)).containsExactly(1, 2);
    }

    @Test
    void filters_narrow_the_list() throws Exception {
        String base = "/api/v2/jobs/2/job_events/?page_size=200&";
        assertThat(counters(api.json(base + "counter__gt=43&counter__lt=45"))).containsExactly(44);
        assertThat(counters(api.json(base + "counter__gte=59"))).containsExactly(59, 60);
        assertThat(counters(api.json(base + "failed=true"))).containsExactly(10, 20, 30, 40, 50, 60);
        assertThat(counters(api.json(base + "event=runner_on_failed&changed=true")))
                .containsExactly(20, 40, 60);
        assertThat(counters(api.json(base + "host_name=web1&counter__lte=6"))).containsExactly(2, 4, 6);
        assertThat(counters(api.json(base + "uuid=e33"))).containsExactly(33);
        assertThat(counters(api.json(base + "search=LINE%205")))
                .containsExactly(5, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59);
        assertThat(counters(api.json(base + "not__stdout=&counter__lte=4"))).containsExactly(1, 2, 4);
        assertThat(counters(api.json(base + "event__in=playbook_on_task_start")))
                .containsExactly(8);
        assertThat(counters(api.json(base + "order_by=-host_name,counter&counter__lte=4")))
                .containsExactly(1, 3, 2, 4);
    }

    @Test
    void bad_filters_are_400_with_a_reason() throws Exception {
        HttpResponse<String> r = api.get("/api/v2/jobs/2/job_events/?counter__gt=abc");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Json.MAPPER.readTree(r.body()).get("detail").asText())
                .isEqualTo("counter__gt: 'abc' is not an integer");
        assertThat(api.get("/api/v2/jobs/2/job_events/?order_by=nope").statusCode())
                .isEqualTo(400);
        assertThat(api.get("/api/v2/jobs/2/job_events/?secret__field=1").statusCode())
                .isEqualTo(400);
    }

    @Test
    void list_truncates_long_stdout_except_playbook_on_events_and_with_no_truncate() throws Exception {
        JsonNode list = api.json("/api/v2/jobs/2/job_events/?counter__in=7,8");
        String cut = list.get("results").get(0).get("stdout").asText();
        assertThat(cut).startsWith(ESC + "[0;31mxxx").endsWith("x\u2026" + ESC + "[0m");
        assertThat(cut.length()).isEqualTo(1024 + 4);
        assertThat(list.get("results").get(1).get("stdout").asText()).hasSize(2000);
        JsonNode whole = api.json("/api/v2/jobs/2/job_events/?counter=7&no_truncate=1");
        assertThat(whole.get("results").get(0).get("stdout").asText()).hasSize(2007);
        assertThat(api.json("/api/v2/job_events/2000007/").get("stdout").asText())
                .hasSize(2007);
    }

    @Test
    void event_detail_and_children() throws Exception {
        assertThat(api.json("/api/v2/job_events/1000002/").get("uuid").asText()).isEqualTo("uuid2");
        assertThat(counters(api.json("/api/v2/job_events/1000002/children/"))).containsExactly(3);
        assertThat(counters(api.json("/api/v2/job_events/1000001/children/"))).containsExactly(2, 5);
        assertThat(counters(api.json("/api/v2/job_events/1000004/children/"))).isEmpty();
    }

    @Test
    void children_summary_follows_the_awx_example() throws Exception {
        JsonNode s = api.json("/api/v2/jobs/1/job_events/children_summary/");
        assertThat(s.get("children_summary").toString())
                .isEqualTo("{\"1\":{\"rowNumber\":0,\"numChildren\":4},\"2\":{\"rowNumber\":1,\"numChildren\":2}}");
        assertThat(s.get("meta_event_nested_uuid").toString()).isEqualTo("{\"4\":\"uuid2\"}");
        assertThat(s.get("event_processing_finished").asBoolean()).isTrue();
        assertThat(s.get("is_tree").asBoolean()).isTrue();
    }

    @Test
    void children_summary_is_empty_while_the_job_runs() throws Exception {
        JsonNode s = api.json("/api/v2/jobs/5/job_events/children_summary/");
        assertThat(s.toString())
                .isEqualTo("{\"children_summary\":{},\"meta_event_nested_uuid\":{},"
                        + "\"event_processing_finished\":false,\"is_tree\":true}");
    }
}
