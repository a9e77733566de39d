package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The pages that explain a run (SPEC §11, issue 19) in headless Chromium against a real node and real
 * ansible-playbook runs: a four-host playbook run twice (the second run changes, fails and skips other hosts), and a
 * slow one watched live. Covers line links (stored, and still to come), timestamps, filtered downloads, the play
 * recap, the host x task matrix, the timeline, compare, keyboard use and the dark theme; screenshots go to
 * target/screenshots. Tests run in order on one node and one browser; nothing asserts a duration.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RunAnalysisBrowserIT {
    private static final Pattern ABSOLUTE = Pattern.compile("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}");
    private static final Pattern RELATIVE = Pattern.compile("[+-]\\d+:\\d\\d\\.\\d{3}");
    private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;?]*[ -/]*[@-~]");

    private static final String INVENTORY = """
            [fleet]
            web1
            web2
            db1
            db2

            [fleet:vars]
            ansible_connection=local
            ansible_python_interpreter=/usr/bin/python3
            """;

    /**
     * Run 1: db2 fails, web1 is far slower than its peers (15 s: the server flags a host above 3 x the median, and
     * on a loaded machine even "sleep 0" takes seconds). Run 2: web2 fails instead, db1 changes.
     */
    private static final String FLEET = """
            - name: Fleet
              hosts: fleet
              gather_facts: false
              vars:
                run: 1
              tasks:
                - name: Check in
                  ansible.builtin.debug:
                    msg: "{{ inventory_hostname }} checks in"
                - name: Configure
                  ansible.builtin.command: echo configure
                  changed_when: inventory_hostname.startswith('web') or (run | int == 2 and inventory_hostname == 'db1')
                - name: Wait
                  ansible.builtin.command: "sleep {{ 15 if (inventory_hostname == 'web1' and run | int == 1) else 0 }}"
                  changed_when: false
                - name: Risky step
                  ansible.builtin.command: /bin/false
                  when: inventory_hostname == ('db2' if run | int == 1 else 'web2')
                - name: Final
                  ansible.builtin.debug:
                    msg: done
            """;

    private static final String TICKS = """
            - name: Ticks
              hosts: web1
              gather_facts: false
              tasks:
                - name: Tick
                  ansible.builtin.command: sleep 1
                  loop: "{{ range(1, 26) | list }}"
                  changed_when: false
            """;

    @TempDir
    static Path dataDir;

    @TempDir
    static Path playbooks;

    @TempDir
    static Path downloads;

    static RunningServer node;
    static HeadlessChromium browser;
    static JavascriptExecutor js;
    static long run1;
    static long run2;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(playbooks.resolve("fleet.ini"), INVENTORY);
        Files.writeString(playbooks.resolve("fleet.yml"), FLEET);
        Files.writeString(playbooks.resolve("ticks.yml"), TICKS);
        node = RunningServer.start(dataDir, Map.of("playbook-dir", playbooks.toString()));
        run1 = launch("{\"playbook\": \"fleet.yml\", \"inventory\": \"fleet.ini\", \"extra_vars\": {\"run\": 1}}");
        awaitDone(run1);
        run2 = launch("{\"playbook\": \"fleet.yml\", \"inventory\": \"fleet.ini\", \"extra_vars\": {\"run\": 2}}");
        awaitDone(run2);
        browser = HeadlessChromium.start();
        browser.logIn(node.uri("/"));
        js = (JavascriptExecutor) browser.driver;
        ((ChromeDriver) browser.driver)
                .executeCdpCommand(
                        "Browser.setDownloadBehavior",
                        Map.of("behavior", "allow", "downloadPath", downloads.toString()));
        js.executeScript(
                "localStorage.setItem('jobstream-theme', 'dark'); localStorage.removeItem('jobstream-timestamps')");
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (node != null) node.close();
    }

    @Test
    @Order(1)
    void a_line_link_scrolls_to_and_highlights_its_line_and_a_click_on_a_number_links_there() throws Exception {
        int lines = lineCount(run2);
        int target = lines - 3;
        open("/jobs/" + run2 + "#L" + target);
        browser.wait.until(d -> String.valueOf(target).equals(attribute("body", "data-target")));
        WebElement row = browser.wait.until(d -> d.findElement(By.cssSelector("#output .line.target")));
        assertThat(row.findElement(By.cssSelector(".ln")).getText()).isEqualTo(String.valueOf(target));
        assertThat(inView(row)).isTrue();
        browser.screenshot("analysis-line-link");

        WebElement other = lineNumber(target - 2);
        other.click();
        browser.wait.until(d -> d.getCurrentUrl().endsWith("#L" + (target - 2)));
        browser.wait.until(d -> d.findElement(By.cssSelector("#output .line.target .ln"))
                .getText()
                .equals(String.valueOf(target - 2)));
        new Actions(browser.driver)
                .moveToElement(browser.driver.findElement(By.cssSelector("#output .line.target")))
                .perform();
        browser.driver.findElement(By.cssSelector("#output .line.target .copy")).click();
        browser.wait.until(d -> attribute("#link-note", "data-copied").endsWith("/jobs/" + run2 + "#L" + (target - 2)));

        // keyboard: y copies the selected line's link; a new hash jumps there
        js.executeScript(
                "document.getElementById('link-note').removeAttribute('data-copied'); document.activeElement.blur()");
        browser.driver.findElement(By.tagName("body")).sendKeys("y");
        browser.wait.until(d -> attribute("#link-note", "data-copied").endsWith("#L" + (target - 2)));
        browser.driver.findElement(By.tagName("body")).sendKeys("]]");
        browser.wait.until(d -> d.getCurrentUrl().endsWith("#L" + target));
        browser.driver.findElement(By.tagName("body")).sendKeys("[y");
        browser.wait.until(d -> attribute("#link-note", "data-copied").endsWith("#L" + (target - 1)));
        js.executeScript("location.hash = '#L2'");
        browser.wait.until(d -> "2".equals(attribute("body", "data-target")));
        browser.wait.until(d -> d.findElement(By.cssSelector("#output .line.target .ln"))
                .getText()
                .equals("2"));
    }

    @Test
    @Order(2)
    void
            a_link_to_a_line_not_yet_written_waits_and_jumps_when_the_line_streams_in_and_the_analysis_pages_follow_the_run()
                    throws Exception {
        long ticks = launch("{\"playbook\": \"ticks.yml\", \"inventory\": \"fleet.ini\"}");
        int target = 16; // the 12th of 25 one-second ticks: well after the page has opened
        open("/jobs/" + ticks + "#L" + target);
        browser.wait.until(d -> d.findElement(By.id("link-note")).getText().equals("waiting for line " + target + "…"));
        assertThat(attribute("body", "data-target")).isEmpty();
        assertThat(lineCount(ticks)).isLessThan(target);
        browser.screenshot("analysis-line-link-waiting");

        new WebDriverWait(browser.driver, Duration.ofSeconds(120))
                .until(d -> String.valueOf(target).equals(attribute("body", "data-target")));
        WebElement row = browser.wait.until(d -> d.findElement(By.cssSelector("#output .line.target")));
        assertThat(row.findElement(By.cssSelector(".ln")).getText()).isEqualTo(String.valueOf(target));
        assertThat(row.findElement(By.cssSelector(".tx")).getText()).contains("web1");
        assertThat(inView(row)).isTrue();
        browser.screenshot("analysis-line-link-arrived");

        // while the loop still runs (13 more ticks): the timeline and the matrix show web1 running, then done
        open("/jobs/" + ticks + "/timeline");
        browser.wait.until(d -> d.findElement(By.id("running-now")).getText().matches("1 running now: web1 \\d.*"));
        browser.screenshot("analysis-timeline-running");
        open("/jobs/" + ticks + "/hosts");
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        assertThat(cell(0, 0)).isEqualTo("running");
        assertThat(browser.driver.findElement(By.id("summary")).getText()).contains("1 running");
        new WebDriverWait(browser.driver, Duration.ofSeconds(120)).until(d -> "ok".equals(cell(0, 0)));
        awaitDone(ticks);
    }

    @Test
    @Order(3)
    void timestamps_show_on_demand_absolute_or_relative_and_the_choice_is_remembered() throws Exception {
        open("/jobs/" + run2);
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        assertThat(browser.driver.findElements(By.cssSelector("#output .line .ts")))
                .isEmpty();

        new Select(browser.driver.findElement(By.id("timestamps"))).selectByValue("absolute");
        browser.wait.until(
                d -> !d.findElements(By.cssSelector("#output .line .ts")).isEmpty());
        List<String> absolute = stamps();
        assertThat(absolute).isNotEmpty().allMatch(t -> ABSOLUTE.matcher(t).matches());

        new Select(browser.driver.findElement(By.id("timestamps"))).selectByValue("relative");
        browser.wait.until(
                d -> stamps().stream().allMatch(t -> RELATIVE.matcher(t).matches()));
        assertThat(stamps().get(0)).startsWith("+0:");
        browser.screenshot("analysis-timestamps-relative");

        browser.driver.navigate().refresh();
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        assertThat(new Select(browser.driver.findElement(By.id("timestamps")))
                        .getFirstSelectedOption()
                        .getAttribute("value"))
                .isEqualTo("relative");
        browser.wait.until(d -> !stamps().isEmpty());
        browser.driver.findElement(By.tagName("body")).sendKeys("s"); // relative -> off
        browser.wait.until(
                d -> d.findElements(By.cssSelector("#output .line .ts")).isEmpty());
        assertThat(attribute("body", "data-timestamps")).isEqualTo("off");
    }

    @Test
    @Order(4)
    void downloads_keep_the_active_filter_and_can_carry_timestamps() throws Exception {
        open("/jobs/" + run2);
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        WebElement txt = browser.driver.findElement(By.id("txt_download"));
        assertThat(txt.getAttribute("href")).endsWith("/api/v2/jobs/" + run2 + "/stdout/?format=txt_download");
        browser.driver.findElement(By.id("download-timestamps")).click();
        assertThat(txt.getAttribute("href")).endsWith("format=txt_download&timestamps=1");
        String whole = Http.get(node.uri("/api/v2/jobs/" + run2 + "/stdout/?format=txt_download&timestamps=1"))
                .body();
        assertThat(whole.lines().filter(l -> !l.isEmpty())).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\S+ .*"));
        browser.driver.findElement(By.id("download-timestamps")).click();

        browser.driver.findElement(By.id("filter-host")).sendKeys("db1");
        browser.wait.until(d -> d.findElement(By.id("download-note")).getText().equals("(filtered)"));
        txt.click();
        String filtered = awaitDownload("job_" + run2 + "_filtered.txt");
        List<JsonNode> db1 = events(run2, "host_name__icontains=db1");
        assertThat(db1).isNotEmpty();
        StringBuilder expected = new StringBuilder();
        for (JsonNode e : db1)
            expected.append(ANSI.matcher(e.path("stdout").asText()).replaceAll(""))
                    .append('\n');
        assertThat(filtered).isEqualTo(expected.toString()).contains("db1").doesNotContain("web1", "web2", "db2");

        browser.driver.findElement(By.id("download-timestamps")).click();
        browser.driver.findElement(By.id("ansi_download")).click();
        String stamped = awaitDownload("job_" + run2 + "_filtered.ansi");
        assertThat(stamped).contains("\u001b[");
        String firstCreated = db1.get(0).path("created").asText();
        assertThat(stamped).startsWith(firstCreated + " ");
        assertThat(stamped.lines()).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\S+ .*"));
        browser.driver.findElement(By.id("download-timestamps")).click();
    }

    @Test
    @Order(5)
    void the_job_page_shows_a_play_recap_with_every_host() throws Exception {
        open("/jobs/" + run2);
        browser.wait.until(
                d -> d.findElements(By.cssSelector("#recap tbody tr")).size() == 4);
        assertThat(browser.driver.findElement(By.id("recap")).isDisplayed()).isTrue();
        List<WebElement> rows = browser.driver.findElements(By.cssSelector("#recap tbody tr"));
        assertThat(rows)
                .extracting(r -> r.findElement(By.tagName("th")).getText())
                .containsExactlyInAnyOrder("web1", "web2", "db1", "db2");
        WebElement web2 = browser.driver.findElement(By.cssSelector("#recap tbody tr.bad"));
        assertThat(web2.findElement(By.tagName("th")).getText()).isEqualTo("web2");
        assertThat(browser.driver
                        .findElement(By.cssSelector("#recap .recap-count"))
                        .getText())
                .isEqualTo("4 hosts, 1 failed");
        browser.screenshot("analysis-play-recap");
    }

    @Test
    @Order(6)
    void the_matrix_shows_each_host_in_each_task_and_a_cell_opens_that_result() throws Exception {
        open("/jobs/" + run2 + "/hosts");
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        assertThat(js.executeScript("return window.jobstream.model.rows"))
                .asList()
                .containsExactly("web1", "web2", "db1", "db2");
        assertThat(js.executeScript("return window.jobstream.model.tasks.map(t => t.task)"))
                .asList()
                .containsExactly("Check in", "Configure", "Wait", "Risky step", "Final");
        assertThat(cell(1, 3)).isEqualTo("failed"); // web2, Risky step
        assertThat(cell(0, 1)).isEqualTo("changed");
        assertThat(cell(2, 1)).isEqualTo("changed"); // db1 changes in run 2
        assertThat(cell(3, 3)).isEqualTo("skipped");
        assertThat(cell(1, 4)).isNull(); // a failed host runs no more tasks
        assertThat(browser.driver.findElement(By.id("summary")).getText()).contains("4 of 4 hosts × 5 tasks");
        assertReadsCompactTimeline(run2);
        browser.screenshot("analysis-matrix-dark");

        // keyboard: focus the grid, move to web2 x Risky step, Enter opens its output at that result
        WebElement grid = browser.driver.findElement(By.id("matrix"));
        grid.click();
        js.executeScript("window.jobstream.cursor.row = 0; window.jobstream.cursor.col = 0");
        grid.sendKeys(Keys.ARROW_DOWN, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT);
        browser.wait.until(d -> "web2".equals(attribute("#cell-info", "data-host"))
                && "Risky step".equals(attribute("#cell-info", "data-task")));
        assertThat(attribute("#cell-info", "data-status")).isEqualTo("failed");
        grid.sendKeys(Keys.ENTER);
        browser.wait.until(d -> d.getCurrentUrl().matches(".*/jobs/" + run2 + "#L\\d+"));
        browser.wait.until(d -> !attribute("body", "data-target").isEmpty());
        assertThat(targetText()).contains("fatal: [web2]");

        // the mouse: a click on db1 x Configure opens db1's changed result
        open("/jobs/" + run2 + "/hosts");
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        clickCell(2, 1);
        browser.wait.until(d -> d.getCurrentUrl().matches(".*/jobs/" + run2 + "#L\\d+"));
        browser.wait.until(d -> !attribute("body", "data-target").isEmpty());
        assertThat(targetText()).contains("changed: [db1]");

        // filters: only hosts with failures
        open("/jobs/" + run2 + "/hosts");
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        new Select(browser.driver.findElement(By.id("row-filter"))).selectByValue("failed");
        browser.wait.until(d -> ((List<?>) js.executeScript("return window.jobstream.model.rows")).size() == 1);
        assertThat(js.executeScript("return window.jobstream.model.rows"))
                .asList()
                .containsExactly("web2");
    }

    @Test
    @Order(7)
    void the_timeline_lists_the_slowest_task_first_and_flags_the_slow_host() throws Exception {
        open("/jobs/" + run1 + "/timeline");
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        List<WebElement> slowest = browser.driver.findElements(By.cssSelector("#slowest tbody tr"));
        assertThat(slowest).hasSize(5);
        assertThat(slowest.get(0).getText()).contains("Wait");
        assertThat(browser.driver.findElement(By.id("task-title")).getText()).contains("Wait");
        browser.wait.until(
                d -> d.findElement(By.id("running-now")).getText().contains("far slower than their peers: web1"));
        assertThat(js.executeScript("return window.jobstream.model.hostRows[0].name"))
                .isEqualTo("web1");
        assertReadsCompactTimeline(run1);
        browser.screenshot("analysis-timeline-dark");

        // keyboard: the task list moves with the arrows, Enter goes to the hosts, Enter there opens the output
        WebElement tasks = browser.driver.findElement(By.id("tasks"));
        tasks.click();
        js.executeScript("window.jobstream.taskRows.select(0)");
        tasks.sendKeys(Keys.ARROW_DOWN);
        browser.wait.until(d -> d.findElement(By.id("task-title")).getText().contains("2. Configure"));
        tasks.sendKeys(Keys.ENTER);
        browser.wait.until(d -> "task-hosts".equals(js.executeScript("return document.activeElement.id")));
        WebElement hosts = browser.driver.findElement(By.id("task-hosts"));
        hosts.sendKeys(Keys.HOME, Keys.ENTER);
        browser.wait.until(d -> d.getCurrentUrl().matches(".*/jobs/" + run1 + "#L\\d+"));
        browser.wait.until(d -> !attribute("body", "data-target").isEmpty());
        assertThat(targetText()).containsAnyOf("changed: [web", "ok: [db");
    }

    @Test
    @Order(8)
    void compare_opens_the_latest_earlier_run_and_lists_what_differs() throws Exception {
        open("/jobs/" + run2 + "/compare/");
        browser.wait.until(d -> d.getCurrentUrl().endsWith("/jobs/" + run2 + "/compare/" + run1));
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        assertThat(new Select(browser.driver.findElement(By.id("other")))
                        .getFirstSelectedOption()
                        .getAttribute("value"))
                .isEqualTo(String.valueOf(run1));
        browser.wait.until(
                d -> !d.findElements(By.cssSelector("#diffs .diff .host")).isEmpty());
        List<String> rows = diffRows();
        assertThat(rows)
                .contains(
                        "Configure|db1|ok|changed",
                        "Risky step|db2|failed|skipped",
                        "Risky step|web2|skipped|failed",
                        "Final|web2|ok|absent",
                        "Final|db2|absent|ok");
        assertThat(browser.driver.findElement(By.id("summary")).getText()).contains(rows.size() + " results differ");
        browser.screenshot("analysis-compare-dark");

        // keyboard: down to a row and Enter opens this run's output at that result
        WebElement diffs = browser.driver.findElement(By.id("diffs"));
        int configure = rows.indexOf("Configure|db1|ok|changed");
        diffs.click();
        js.executeScript("document.getElementById('diffs').focus()");
        for (int i = 0; i < configure; i++) diffs.sendKeys(Keys.ARROW_DOWN);
        browser.wait.until(d ->
                d.findElement(By.cssSelector("#diffs .diff.selected")).getText().contains("db1"));
        diffs.sendKeys(Keys.ENTER);
        browser.wait.until(d -> d.getCurrentUrl().matches(".*/jobs/" + run2 + "#L\\d+"));
        browser.wait.until(d -> !attribute("body", "data-target").isEmpty());
        assertThat(targetText()).contains("changed: [db1]");

        // one host only
        open("/jobs/" + run2 + "/compare/" + run1);
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        browser.driver.findElement(By.id("diff-filter")).sendKeys("db2");
        browser.wait.until(d -> diffRows().stream().allMatch(r -> r.contains("|db2|"))
                && !diffRows().isEmpty());
    }

    @Test
    @Order(9)
    void every_new_page_switches_to_the_light_theme_by_key_and_keeps_it() throws Exception {
        for (String page : List.of("/hosts", "/timeline", "/compare/" + run1, "")) {
            open("/jobs/" + run2 + page);
            browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
            String dark = background();
            browser.driver.findElement(By.tagName("body")).sendKeys("t");
            browser.wait.until(d -> "light".equals(attribute("html", "data-theme")));
            assertThat(background()).isNotEqualTo(dark);
            if (!page.isEmpty()) {
                // the canvases and tables are drawn again in the light colours
                assertThat(canvasCorner()).isIn(null, "rgb(246, 248, 250)", "rgb(255, 255, 255)");
            }
            browser.screenshot("analysis" + page.replaceAll("[^a-z]+", "-").replaceAll("-$", "") + "-light");
            browser.driver.findElement(By.tagName("body")).sendKeys("t");
            browser.wait.until(d -> "dark".equals(attribute("html", "data-theme")));
        }
        // the help lists the keys on each page
        open("/jobs/" + run2 + "/hosts");
        browser.driver.findElement(By.tagName("body")).sendKeys("?");
        assertThat(browser.driver.findElement(By.id("help-panel")).isDisplayed())
                .isTrue();
        browser.driver.findElement(By.tagName("body")).sendKeys("l");
        browser.wait.until(d -> d.getCurrentUrl().endsWith("/jobs/" + run2 + "/timeline"));
    }

    @Test
    @Order(10)
    void a_job_that_is_not_there_says_so_on_every_page_and_hostile_names_stay_text() throws Exception {
        for (String page : List.of("/hosts", "/timeline", "/compare/" + run1)) {
            open("/jobs/987654" + page);
            browser.wait.until(d -> d.findElement(By.id("error")).isDisplayed());
            assertThat(browser.driver.findElement(By.id("error")).getText()).contains("HTTP 404");
        }
        open("/jobs/" + run2 + "/hosts?host="
                + java.net.URLEncoder.encode("<img src=x onerror=alert(1)>", StandardCharsets.UTF_8));
        browser.wait.until(d -> "true".equals(attribute("body", "data-ready")));
        assertThat(browser.driver.findElement(By.id("host-filter")).getAttribute("value"))
                .isEqualTo("<img src=x onerror=alert(1)>");
        assertThat(browser.driver.findElements(By.cssSelector("img"))).isEmpty();
        assertThat(browser.driver.findElement(By.id("summary")).getText()).startsWith("0 of 4 hosts");
    }

    // ---- helpers ----

    private static long launch(String body) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/jobs/"), body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.json(r.body()).path("id").asLong();
    }

    private static void awaitDone(long id) {
        await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(300))
                .ignoreExceptions()
                .until(() -> {
                    JsonNode j = Http.getJson(node.uri("/api/v2/jobs/" + id + "/"));
                    return !List.of("new", "pending", "waiting", "running")
                                    .contains(j.path("status").asText())
                            && j.path("event_processing_finished").asBoolean();
                });
    }

    /** The job's stored line count (the end_line of its last event with output). */
    private static int lineCount(long id) {
        JsonNode last = Http.getJson(
                        node.uri("/api/v2/jobs/" + id + "/job_events/?order_by=-counter&not__stdout=&limit=1"))
                .path("results")
                .path(0);
        return last.path("end_line").asInt(0);
    }

    private static List<JsonNode> events(long id, String filter) {
        JsonNode page = Http.getJson(node.uri("/api/v2/jobs/" + id + "/job_events/?" + filter
                + "&not__stdout=&order_by=counter&page_size=200&no_truncate=1"));
        return java.util.stream.StreamSupport.stream(page.path("results").spliterator(), false)
                .toList();
    }

    private static void open(String path) {
        browser.driver.get(node.uri(path).toString());
    }

    private static String attribute(String css, String name) {
        Object v = js.executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
                css,
                name);
        return v == null ? "" : v.toString();
    }

    /** The text of the line marked as a link's target, once it is drawn (it is drawn on the next frame). */
    private static String targetText() {
        return browser.wait
                .until(d -> d.findElement(By.cssSelector("#output .line.target .tx")))
                .getText();
    }

    private static boolean inView(WebElement row) {
        return (Boolean) js.executeScript(
                "const r = arguments[0].getBoundingClientRect(), o = document.getElementById('output').getBoundingClientRect();"
                        + " return r.top >= o.top && r.bottom <= o.bottom;",
                row);
    }

    private static WebElement lineNumber(int n) {
        return browser.driver.findElements(By.cssSelector("#output .line .ln")).stream()
                .filter(e -> e.getText().equals(String.valueOf(n)))
                .findFirst()
                .orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private static List<String> stamps() {
        return (List<String>) js.executeScript(
                "return [...document.querySelectorAll('#output .line:not(.loading) .ts')].map(e => e.textContent)");
    }

    /** The page asked for the compact timeline (issue 19), never for the SPEC shape of every host in every task. */
    private static void assertReadsCompactTimeline(long job) {
        Object names = js.executeScript("return performance.getEntriesByType('resource').map(e => e.name)"
                + ".filter(n => n.includes('/timeline/'))");
        assertThat(names)
                .asList()
                .isNotEmpty()
                .allSatisfy(n ->
                        assertThat(String.valueOf(n)).endsWith("/api/v2/jobs/" + job + "/timeline/?format=matrix"));
    }

    private static String cell(int row, int col) {
        Object v = js.executeScript("return window.jobstream.cell(arguments[0], arguments[1])", row, col);
        return v == null ? null : v.toString();
    }

    @SuppressWarnings("unchecked")
    private static void clickCell(int row, int col) {
        Map<String, Number> at = (Map<String, Number>)
                js.executeScript("return window.jobstream.cellRect(arguments[0], arguments[1])", row, col);
        WebElement grid = browser.driver.findElement(By.id("matrix"));
        var box = grid.getRect();
        new Actions(browser.driver)
                .moveToElement(
                        grid, (int) Math.round(at.get("x").doubleValue() - box.getX() - box.getWidth() / 2.0), (int)
                                Math.round(at.get("y").doubleValue() - box.getY() - box.getHeight() / 2.0))
                .click()
                .perform();
    }

    @SuppressWarnings("unchecked")
    private static List<String> diffRows() {
        return (List<String>)
                js.executeScript(
                        "return [...document.querySelectorAll('#diffs .diff')].filter(r => r.querySelector('.host'))"
                                + ".map(r => [...r.querySelectorAll('.cell')].map(c => { const chip = c.querySelector('.chip');"
                                + " return chip ? c.textContent.slice(chip.textContent.length).trim() : c.textContent; }).join('|'))");
    }

    private static String background() {
        return (String) js.executeScript("return getComputedStyle(document.body).backgroundColor");
    }

    /** The colour of a canvas's top-left pixel after the next frame, or null on a page without one. */
    private static String canvasCorner() {
        return (String) js.executeAsyncScript(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => {"
                        + " const c = document.querySelector('canvas'); if (!c) return done(null);"
                        + " const p = c.getContext('2d').getImageData(0, 0, 1, 1).data;"
                        + " done('rgb(' + p[0] + ', ' + p[1] + ', ' + p[2] + ')'); }));");
    }

    private static String awaitDownload(String name) throws Exception {
        Path file = downloads.resolve(name);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> Files.exists(file)
                        && !Files.exists(downloads.resolve(name + ".crdownload"))
                        && Files.size(file) > 0);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Files.delete(file);
        return text;
    }
}
