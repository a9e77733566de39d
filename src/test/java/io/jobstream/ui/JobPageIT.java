package io.jobstream.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.HeadlessChromium;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The job output page in headless Chromium (Debian's chromium + chromedriver, STACK.md §7).
 *
 * <p>The REST API and websocket behind the page are {@link FakeJobApi}, a stand-in that follows AWX's shapes:
 * the real endpoints are written elsewhere and the end-to-end tests cover the page against them. The tests run in
 * order on one page load, as a user watching one job would see it; screenshots go to target/screenshots/.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobPageIT {
    private static final long JOB = 7;
    private static final FakeJobApi API = new FakeJobApi(JOB, "demo: site");
    private static Javalin app;
    private static HeadlessChromium browser;
    private static WebDriver driver;
    private static WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        API.stored.addAll(List.of(
                event(1, "", 0, 0, false),
                event(2, "\r\nPLAY [web] *****", 0, 2, false),
                event(3, "\r\nTASK [ping] *****", 2, 4, false),
                event(4, "\u001b[0;32mok: [web1]\u001b[0m", 4, 5, false),
                event(5, "<script>window.pwned = true</script> & <b>not bold</b>", 5, 6, false),
                event(6, "\u001b[0;31mfatal: [web2]: FAILED! => {\r\n    \"msg\": \"boom\"\r\n}\u001b[0m", 6, 9, true),
                event(
                        7,
                        "\u001b[1;35mignored=1\u001b[0m \u001b[38;5;208morange\u001b[0m \u001b[38;2;10;20;30mtruecolour\u001b[0m",
                        9,
                        10,
                        false)));
        app = Javalin.create(cfg -> {
                    new UiRoutes().register(cfg.routes);
                    API.register(cfg.routes);
                })
                .start("127.0.0.1", 0);

        browser = HeadlessChromium.start();
        driver = browser.driver;
        wait = browser.wait;
        Files.createDirectories(Path.of("target/screenshots"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (app != null) app.stop();
    }

    static ObjectNode event(int counter, String stdout, int start, int end, boolean failed) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("id", 1000 + counter)
                .put("job", JOB)
                .put("counter", counter)
                .put("event", failed ? "runner_on_failed" : "runner_on_ok")
                .put("stdout", stdout)
                .put("start_line", start)
                .put("end_line", end)
                .put("failed", failed)
                .put("created", Timestamps.format(Instant.now()))
                .put("uuid", "u" + counter);
        return e;
    }

    /** A live event as the websocket sends it, created 250 ms ago so the gauge has a lag to show. */
    static ObjectNode live(int counter, String text) {
        ObjectNode e = event(counter, text, counter + 2, counter + 3, false); // event 7 ended at line 10
        e.put("group_name", "job_events")
                .put("created", Timestamps.format(Instant.now().minusMillis(250)));
        return e;
    }

    /** The text of every line element, read in one script: the virtual list replaces elements as it redraws. */
    @SuppressWarnings("unchecked")
    private static List<String> lines() {
        return (List<String>) ((JavascriptExecutor) driver)
                .executeScript("return [...document.querySelectorAll('#output .line .tx')].map(t => t.textContent)");
    }

    private static String theme() {
        return (String) ((JavascriptExecutor) driver).executeScript("return document.documentElement.dataset.theme");
    }

    private static String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    private static void screenshot(String name) throws Exception {
        Files.write(
                Path.of("target/screenshots", name + ".png"),
                ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    @Order(1)
    void the_page_subscribes_with_the_csrftoken_and_shows_stored_lines_in_order() {
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        wait.until(d -> lines().size() == 10);
        if (!"dark".equals(theme()))
            driver.findElement(By.id("theme")).click(); // the colours below are the dark theme's
        assertThat(theme()).isEqualTo("dark");

        assertThat(lines())
                .containsExactly(
                        "",
                        "PLAY [web] *****",
                        "",
                        "TASK [ping] *****",
                        "ok: [web1]",
                        "<script>window.pwned = true</script> & <b>not bold</b>",
                        "fatal: [web2]: FAILED! => {",
                        "    \"msg\": \"boom\"",
                        "}",
                        "ignored=1 orange truecolour");
        assertThat(driver.findElements(By.cssSelector("#output .ln")).get(4).getText())
                .isEqualTo("5");
        wait.until(d -> !API.subscriptions.isEmpty());
        JsonNode groups = API.subscriptions.get(0).get("groups");
        assertThat(groups.get("job_events").get(0).asLong()).isEqualTo(JOB);
        assertThat(groups.get("jobs").toString()).contains("status_changed", "summary");
        assertThat(API.errors).isEmpty();
        assertThat(text("job-name")).isEqualTo("demo: site");
        assertThat(text("job-status")).isEqualTo("running");
    }

    @Test
    @Order(2)
    void ansi_colours_become_classed_spans_that_carry_across_the_lines_of_an_event() {
        WebElement ok = driver.findElement(By.cssSelector("#output span.ansi-fg-2"));
        assertThat(ok.getText()).isEqualTo("ok: [web1]");
        assertThat(ok.getCssValue("color")).isEqualTo("rgba(95, 194, 105, 1)");

        List<WebElement> red = driver.findElements(By.cssSelector("#output .line.failed span.ansi-fg-1"));
        assertThat(red)
                .extracting(WebElement::getText)
                .containsExactly("fatal: [web2]: FAILED! => {", "    \"msg\": \"boom\"", "}");

        WebElement ignored = driver.findElement(By.cssSelector("#output span.ansi-bold.ansi-fg-5"));
        assertThat(ignored.getText()).isEqualTo("ignored=1");
        assertThat(ignored.getCssValue("font-weight")).isEqualTo("700");
        assertThat(spanWithText("orange").getCssValue("color")).isEqualTo("rgba(255, 135, 0, 1)");
        assertThat(spanWithText("truecolour").getCssValue("color")).isEqualTo("rgba(10, 20, 30, 1)");
    }

    private static WebElement spanWithText(String text) {
        return driver.findElements(By.cssSelector("#output span")).stream()
                .filter(s -> s.getText().equals(text))
                .findFirst()
                .orElseThrow();
    }

    @Test
    @Order(3)
    void markup_in_stdout_is_shown_as_text_and_never_runs() {
        assertThat(driver.findElements(By.cssSelector("#output script, #output b")))
                .isEmpty();
        assertThat(((JavascriptExecutor) driver).executeScript("return window.pwned === undefined"))
                .isEqualTo(true);
    }

    @Test
    @Order(4)
    void live_events_are_merged_in_counter_order_and_a_lasting_gap_is_fetched_by_rest() throws Exception {
        API.push(live(9, "live 9"));
        API.push(live(8, "live 8")); // out of order: 9 waits for 8
        wait.until(d -> lines().size() == 12);
        assertThat(lines().subList(10, 12)).containsExactly("live 8", "live 9");
        assertThat(driver.findElements(By.cssSelector("#output .ln")).get(10).getText())
                .isEqualTo("11");

        API.stored.add(live(10, "stored 10")); // never sent live: the page must notice the gap and fetch it
        API.push(live(11, "live 11"));
        wait.until(d -> lines().size() == 14);
        assertThat(lines().subList(12, 14)).containsExactly("stored 10", "live 11");
        // the header's count is redrawn with the next frame, not with the lines: wait for it rather than race it
        wait.until(d -> text("job-events").startsWith("11"));
        screenshot("job-page");
    }

    @Test
    @Order(5)
    void the_lag_gauge_shows_the_debug_js_numbers_for_live_events() {
        wait.until(d -> text("gauge-events").equals("3"));
        double avg = Double.parseDouble(text("gauge-lag-avg"));
        double max = Double.parseDouble(text("gauge-lag-max"));
        assertThat(avg).isBetween(0.2, 30.0);
        assertThat(max).isGreaterThanOrEqualTo(avg);
        assertThat(text("gauge-lag-avg")).matches("\\d+\\.\\d{3}");
        assertThat(Double.parseDouble(text("gauge-max-max-max"))).isGreaterThanOrEqualTo(max);
        assertThat(Double.parseDouble(text("gauge-rate"))).isPositive();
    }

    @Test
    @Order(6)
    void status_messages_update_the_header_live() {
        ObjectNode status = Json.MAPPER.createObjectNode();
        status.put("group_name", "jobs")
                .put("unified_job_id", JOB)
                .put("status", "successful")
                .put("type", "job");
        API.pushJobs(status); // the fake's job detail still says running: only the websocket can change the header
        wait.until(ExpectedConditions.textToBe(By.id("job-status"), "successful"));
        API.job.put("status", "successful");
    }

    @Test
    @Order(7)
    void a_dropped_connection_reconnects_and_resubscribes_with_its_last_counter() {
        API.dropConnections();
        wait.until(d -> API.subscriptions.size() == 2);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        JsonNode again = API.subscriptions.get(1);
        assertThat(again.get("groups").get("job_events").get(0).asLong()).isEqualTo(JOB);
        assertThat(again.get("resume").get(String.valueOf(JOB)).asInt()).isEqualTo(11);
        assertThat(API.subscriptions.get(0).has("resume")).isFalse(); // the first subscribe precedes reading the store
        wait.until(ExpectedConditions.textToBe(By.id("gauge-resumes"), "1"));
        assertThat(text("gauge-conn")).isEqualTo("open");
    }

    @Test
    @Order(8)
    void the_jobs_list_links_each_job_to_its_page() throws Exception {
        driver.get("http://127.0.0.1:" + app.port() + "/");
        wait.until(d -> !d.findElements(By.cssSelector("#jobs tbody tr")).isEmpty());
        WebElement row = driver.findElement(By.cssSelector("#jobs tbody tr"));
        assertThat(row.getText()).contains("demo: site", "successful", "0.012 s");
        assertThat(row.findElement(By.cssSelector("a")).getAttribute("href")).endsWith("/jobs/" + JOB);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        assertThat(text("page-info")).isEqualTo("page 1 of 1 · 1 jobs");
        screenshot("jobs-list-dark");
        driver.findElement(By.id("theme")).click();
        assertThat(theme()).isEqualTo("light");
        screenshot("jobs-list-light");
        driver.findElement(By.id("theme")).click();
    }

    @Test
    @Order(9)
    void a_recorded_real_run_opens_at_its_start_with_few_elements_and_jumps_to_its_end() throws Exception {
        API.stored.clear();
        int expectedLines = 0;
        try (var in = new java.util.zip.GZIPInputStream(
                        getClass().getClassLoader().getResourceAsStream("demo/ansible-runner-events.jsonl.gz"));
                var reader = new java.io.BufferedReader(
                        new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                ObjectNode e = (ObjectNode) Json.MAPPER.readTree(line);
                if (!"site".equals(e.path("_fixture_run").asText())) continue;
                e.put("job", JOB);
                API.stored.add(e);
                expectedLines =
                        Math.max(expectedLines, e.path("end_line").asInt()); // AWX's line count: the last end_line
            }
        }
        final int total = expectedLines;
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
        wait.until(d -> "true".equals(d.findElement(By.tagName("body")).getAttribute("data-ready")));
        // the counts are redrawn on their own schedule, not with the first rows: on a busy machine a moment later
        wait.until(d -> text("job-lines").equals(String.format("%,d", total)));
        // a finished job opens at its start; only the rows in view (and a margin) are in the page
        assertThat(driver.findElements(By.cssSelector("#output .ln")).get(0).getText())
                .isEqualTo("1");
        assertThat(driver.findElements(By.cssSelector("#output .line")).size()).isLessThan(total);
        screenshot("job-page-recorded-run-dark");

        driver.findElement(By.id("output")).sendKeys("G");
        // the recap's last host line; the stats event's end_line counts one more, empty, line after it
        wait.until(d -> lines().get(lines().size() - 2).contains("web-03")
                && lines().get(lines().size() - 2).contains("failed=1"));
        wait.until(d -> atBottom());
        assertThat(driver.findElement(By.id("jump")).isDisplayed()).isFalse();
        driver.findElement(By.id("theme")).click();
        screenshot("job-page-recorded-run-light");
        driver.findElement(By.id("theme")).click();
    }

    private static boolean atBottom() {
        return (Boolean)
                ((JavascriptExecutor) driver)
                        .executeScript(
                                "const o = document.getElementById('output'); return o.scrollHeight - o.scrollTop - o.clientHeight < 2;");
    }

    @Test
    @Order(10)
    void the_tail_is_followed_until_the_reader_scrolls_up_and_one_click_resumes_it() throws Exception {
        int line = API.stored.stream()
                .mapToInt(e -> e.path("end_line").asInt())
                .max()
                .orElseThrow();
        int counter = API.stored.stream()
                .mapToInt(e -> e.path("counter").asInt())
                .max()
                .orElseThrow();
        for (int i = 1; i <= 60; i++) API.push(liveAt(counter + i, line + i - 1, "streamed " + i));
        wait.until(d -> lines().get(lines().size() - 1).equals("streamed 60"));
        wait.until(d -> atBottom());

        ((JavascriptExecutor) driver).executeScript("document.getElementById('output').scrollTop -= 400");
        wait.until(d -> d.findElement(By.id("jump")).isDisplayed());
        API.push(liveAt(counter + 61, line + 60, "streamed 61"));
        wait.until(d -> text("job-lines").equals(String.format("%,d", line + 61)));
        assertThat(atBottom()).isFalse(); // the reader's place is kept

        driver.findElement(By.id("jump")).click();
        wait.until(d -> lines().get(lines().size() - 1).equals("streamed 61") && atBottom());
        API.push(liveAt(counter + 62, line + 61, "streamed 62"));
        wait.until(d -> lines().get(lines().size() - 1).equals("streamed 62") && atBottom());
    }

    @Test
    @Order(11)
    void search_moves_between_matching_events_and_counts_them() {
        long matching = API.stored.stream()
                .filter(e -> e.path("stdout").asText().contains("db-01"))
                .count();
        WebElement search = driver.findElement(By.id("search"));
        search.sendKeys("db-01" + org.openqa.selenium.Keys.ENTER);
        wait.until(d -> text("search-count").matches("\\d+ / " + matching + " events"));
        int first = Integer.parseInt(text("search-count").split(" ")[0]);
        wait.until(
                d -> !d.findElements(By.cssSelector("#output .line.hit mark")).isEmpty());
        assertThat(driver.findElement(By.cssSelector("#output .line.hit mark")).getText())
                .isEqualTo("db-01");

        driver.findElement(By.id("search-next")).click();
        int next = (int) (first % matching) + 1; // after the last match it wraps to the first
        wait.until(d -> text("search-count").equals(next + " / " + matching + " events"));
        driver.findElement(By.id("search-prev")).click();
        wait.until(d -> text("search-count").equals(first + " / " + matching + " events"));
        assertThat(driver.findElement(By.cssSelector("#output .line.hit .tx")).getText())
                .contains("db-01");
    }

    /**
     * The page's precise clock is monotonic and drifts from the wall clock when the machine sets its time or sleeps
     * (once in CI the gauge read -6 s); the gauge must follow the wall clock. The drift is made by slowing the page's
     * {@code performance.now()} by 6 s; the event's lag is 250 ms on the wall clock.
     */
    @Test
    @Order(12)
    void the_lag_gauge_follows_the_wall_clock_when_the_page_clock_drifts() {
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB); // a fresh gauge
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        ((JavascriptExecutor) driver)
                .executeScript(
                        "const real = performance.now.bind(performance); performance.now = () => real() - 6000;");
        API.push(live(11, "live 11 again")); // a duplicate for the output, an event for the gauge
        wait.until(d -> text("gauge-events").equals("1"));
        assertThat(Double.parseDouble(text("gauge-lag-avg"))).isBetween(0.2, 30.0);
    }

    static ObjectNode liveAt(int counter, int line, String text) {
        ObjectNode e = event(counter, text, line, line + 1, false);
        e.put("group_name", "job_events");
        return e;
    }

    @Test
    @Order(50)
    void a_job_kept_at_a_lower_capture_level_says_so_in_a_small_badge() {
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        assertThat(driver.findElement(By.id("job-capture")).isDisplayed())
                .as("full: no badge")
                .isFalse();
        API.job.put("capture", "summary");
        API.job.putObject("capture_dropped").put("events", 12).put("bytes", 3400);
        try {
            driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
            wait.until(ExpectedConditions.textToBe(By.id("job-capture"), "capture: summary"));
            assertThat(driver.findElement(By.id("job-capture")).getAttribute("title"))
                    .contains("12 events")
                    .contains("3400 bytes");
        } finally {
            API.job.remove(List.of("capture", "capture_dropped"));
        }
    }
}
