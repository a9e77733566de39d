package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

/**
 * A finished 1,000,000-line job (10,000 events of 100 lines, posted through the real ingest endpoint into a real
 * node) in headless Chromium: the page becomes interactive without loading the job, keeps a bounded number of
 * line elements, jumps to the end, to a search hit, to the first failure, and filters. The time to interactive is
 * printed for the record (bench/ui measures it properly); nothing here asserts a duration.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class BigJobBrowserIT {
    static final long JOB = 31;
    static final int EVENTS = 10_000;
    static final int LINES_PER_EVENT = 100;
    static final int FAILED_EVENT = 4321;
    static final int NEEDLE_EVENT = 7777;

    @TempDir
    static Path dataDir;

    static RunningServer server;
    static HeadlessChromium browser;
    static JavascriptExecutor js;

    @BeforeAll
    static void start() throws Exception {
        server = RunningServer.start(dataDir, Map.of());
        ingestBigJob(server, JOB, EVENTS, LINES_PER_EVENT);
        browser = HeadlessChromium.start();
        browser.logIn(server.uri("/"));
        js = (JavascriptExecutor) browser.driver;
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (server != null) server.close();
    }

    /** Posts the job in requests of 1,000 events (about 4 MB each), then its EOF. */
    public static void ingestBigJob(RunningServer server, long job, int events, int linesPerEvent) {
        StringBuilder batch = new StringBuilder();
        for (int c = 1; c <= events; c++) {
            batch.append(bigEvent(job, c, linesPerEvent)).append('\n');
            if (c % 1000 == 0 || c == events) {
                var reply = Http.post(server.uri("/api/v2/job_events/ingest/"), batch.toString());
                assertThat(reply.statusCode()).as(reply.body()).isEqualTo(200);
                batch.setLength(0);
            }
        }
        var eof = Http.post(
                server.uri("/api/v2/job_events/ingest/"),
                "{\"event\":\"EOF\",\"job_id\":" + job + ",\"final_counter\":" + events + "}");
        assertThat(eof.statusCode()).isEqualTo(200);
    }

    /** Event c: a task start every 100 events, one failure, one line holding a unique word; all coloured green. */
    public static String bigEvent(long job, int c, int lines) {
        boolean task = c % 100 == 1;
        boolean failed = c == FAILED_EVENT;
        StringBuilder out = new StringBuilder();
        int start = (c - 1) * lines;
        for (int i = 0; i < lines; i++) {
            if (i > 0) out.append("\\r\\n");
            int n = start + i + 1;
            if (task && i == lines - 1)
                out.append("TASK [task ").append(c / 100).append("] ****");
            else if (failed && i == 0)
                out.append("\\u001b[0;31mfatal: [host3]: FAILED! line ")
                        .append(n)
                        .append("\\u001b[0m");
            else if (c == NEEDLE_EVENT && i == 42)
                out.append("the needle is here, line ").append(n);
            else
                out.append("\\u001b[0;32mok: [host")
                        .append(c % 5)
                        .append("] line ")
                        .append(n)
                        .append("\\u001b[0m");
        }
        String event = task ? "playbook_on_task_start" : failed ? "runner_on_failed" : "runner_on_ok";
        return "{\"job_id\":" + job + ",\"counter\":" + c + ",\"event\":\"" + event + "\",\"uuid\":\"b" + c
                + "\",\"created\":\"" + io.jobstream.event.Timestamps.format(java.time.Instant.now()) + "\",\"failed\":"
                + failed
                + ",\"stdout\":\"" + out + "\",\"start_line\":" + start + ",\"end_line\":" + (start + lines)
                + ",\"event_data\":{\"host\":\"host" + c % 5 + "\",\"task\":\"task " + c / 100 + "\"}}";
    }

    static List<String> visibleTexts() {
        @SuppressWarnings("unchecked")
        List<String> texts =
                (List<String>) js.executeScript("const o = document.getElementById('output').getBoundingClientRect();"
                        + "return [...document.querySelectorAll('#output .line')].filter(l => {"
                        + " const r = l.getBoundingClientRect(); return r.top >= o.top - 1 && r.bottom <= o.bottom + 1; })"
                        + ".map(l => l.querySelector('.ln').textContent + '|' + l.querySelector('.tx').textContent);");
        return texts;
    }

    static long domLines() {
        return (Long) js.executeScript("return document.querySelectorAll('#output .line').length");
    }

    @Test
    @Order(1)
    void a_million_line_job_opens_at_its_first_line_with_a_bounded_dom() throws Exception {
        long t0 = System.nanoTime();
        browser.driver.get(server.uri("/jobs/" + JOB).toString());
        browser.wait.until(d -> "true".equals(d.findElement(By.tagName("body")).getAttribute("data-ready")));
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        Object interactive = js.executeScript("return Math.round(window.jobstream.timings.interactive)");
        System.out.printf(
                "BigJobBrowserIT: 1,000,000 lines interactive after %s ms (page clock), %d ms (test clock)%n",
                interactive, wallMs);

        // the header is redrawn with the next animation frame after the page is ready: wait for it, do not race it
        browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("1,000,000"));
        assertThat(visibleTexts().get(0)).isEqualTo("1|ok: [host1] line 1");
        assertThat(domLines()).isBetween(20L, 300L);
        assertThat((Long) js.executeScript("return window.jobstream.store.requests"))
                .isLessThan(5L);
        browser.screenshot("big-job-top");
    }

    @Test
    @Order(2)
    void jumping_to_the_end_shows_the_last_line_and_loads_only_that_range() {
        browser.driver.findElement(By.id("output")).sendKeys("G");
        browser.wait.until(d -> {
            List<String> v = visibleTexts();
            return !v.isEmpty() && v.get(v.size() - 1).equals("1000000|ok: [host0] line 1000000");
        });
        List<String> visible = visibleTexts();
        for (int i = 1; i < visible.size(); i++) {
            int a = Integer.parseInt(visible.get(i - 1).split("\\|")[0]);
            int b = Integer.parseInt(visible.get(i).split("\\|")[0]);
            assertThat(b).isEqualTo(a + 1);
        }
        assertThat(domLines()).isBetween(20L, 300L);
        assertThat((Long) js.executeScript("return window.jobstream.store.chunks.size"))
                .isLessThan(10L);
    }

    @Test
    @Order(3)
    void a_search_hit_far_into_the_job_is_found_on_the_server_and_shown_highlighted() {
        WebElement search = browser.driver.findElement(By.id("search"));
        search.sendKeys("needle" + Keys.ENTER);
        int line = (NEEDLE_EVENT - 1) * LINES_PER_EVENT + 43;
        browser.wait.until(d -> visibleTexts().contains(line + "|the needle is here, line " + line));
        assertThat(browser.driver
                        .findElement(By.cssSelector("#output .line.hit mark"))
                        .getText())
                .isEqualTo("needle");
        browser.wait.until(d -> d.findElement(By.id("search-count")).getText().equals("1 / 1 events"));
        assertThat(domLines()).isBetween(20L, 300L);
    }

    @Test
    @Order(4)
    void the_first_failure_is_one_key_away_and_red() {
        browser.driver.findElement(By.id("output")).sendKeys("e");
        int line = (FAILED_EVENT - 1) * LINES_PER_EVENT + 1;
        browser.wait.until(d -> visibleTexts().contains(line + "|fatal: [host3]: FAILED! line " + line));
        WebElement failed = browser.driver.findElement(By.cssSelector("#output .line.failed.hit .tx span.ansi-fg-1"));
        assertThat(failed.getText()).isEqualTo("fatal: [host3]: FAILED! line " + line);
    }

    @Test
    @Order(5)
    void a_task_collapses_to_its_header_and_expands_again() {
        browser.driver.findElement(By.id("output")).sendKeys("g");
        int header = 100; // the task start of event 1 ends on line 100
        js.executeScript("document.getElementById('output').scrollTop = 60 * 18"); // the reader scrolls down a little
        By headerRow = By.cssSelector("#output .line[data-line='" + (header - 1) + "']");
        browser.wait.until(d -> !d.findElements(headerRow).isEmpty());
        js.executeScript("arguments[0].scrollIntoView({block: 'center'})", browser.driver.findElement(headerRow));
        browser.wait.until(d -> visibleTexts().contains(header + "|TASK [task 0] ****"));
        WebElement fold =
                browser.driver.findElement(By.cssSelector("#output .line[data-line='" + (header - 1) + "'] .fold"));
        fold.click();
        // event 101 starts the next task: lines 101..10000 are hidden, the next row is line 10001
        browser.wait.until(d -> {
            List<String> v = visibleTexts();
            int at = v.indexOf(header + "|TASK [task 0] ****");
            return at >= 0 && at + 1 < v.size() && v.get(at + 1).startsWith("10001|");
        });
        browser.driver
                .findElement(By.cssSelector("#output .line[data-line='" + (header - 1) + "'] .fold"))
                .click();
        browser.wait.until(d -> {
            List<String> v = visibleTexts();
            int at = v.indexOf(header + "|TASK [task 0] ****");
            return at >= 0 && at + 1 < v.size() && v.get(at + 1).startsWith("101|");
        });
    }

    @Test
    @Order(6)
    void the_failed_only_filter_shows_just_the_failed_event() {
        new org.openqa.selenium.support.ui.Select(browser.driver.findElement(By.id("filter-status")))
                .selectByValue("failed");
        browser.wait.until(d -> d.findElement(By.id("filter-count")).getText().equals("1 events"));
        browser.wait.until(d -> !visibleTexts().isEmpty()
                && visibleTexts().get(0).equals("432001|fatal: [host3]: FAILED! line 432001"));
        assertThat(visibleTexts())
                .allSatisfy(t -> assertThat(Integer.parseInt(t.split("\\|")[0])).isBetween(432001, 432100));
        new org.openqa.selenium.support.ui.Select(browser.driver.findElement(By.id("filter-status"))).selectByValue("");
        browser.wait.until(
                d -> visibleTexts().size() > 0 && visibleTexts().get(0).startsWith("1|"));
    }
}
